# syntax=docker/dockerfile:1
# One image, every role (worker, api, bridge, migrations): the command picks the role, e.g.
#   node dist/workers/main.js | node dist/api/main.js | node dist/bridge/main.js | node dist/scripts/migrate.js
# The ops CLI ships in it too (tsx is a dev dependency and is pruned): `node dist/scripts/ops.js --help`,
# e.g. `docker compose exec worker node dist/scripts/ops.js failed --since 2026-11-28T08:00:00Z`.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# No compiler: better-sqlite3 and the Temporal core bridge ship prebuilt binaries for this platform.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The prune drops dev tools and the optional `node` package (the build's Node 24 binary; the image has
# its own): no runtime dependency is optional (pg-cloudflare, Cloudflare Workers only, is the one other).
# `npm run build` emits dist/ and the pre-built dist/workflow-bundle.js (scripts/bundle-workflows.ts),
# so a worker starts without webpack.
RUN npm run build \
  && test -f dist/workflow-bundle.js \
  && npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
# A 4 MB young generation (V8's default grows to 16 MB per semi-space, per isolate): the worker
# held 555 MB with 1,000 orders open without it, 400 MB with it, at the same throughput. Two malloc
# arenas instead of one per thread: 345 → 319 MB (npm run bench; README, Benchmarks).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=4 \
    MALLOC_ARENA_MAX=2 \
    HOST=0.0.0.0 \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
# Code and dependencies stay root-owned (the app cannot rewrite itself); /data is the one writable
# place, for the simulator's record (a volume in docker-compose.yml).
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
