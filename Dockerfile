# One image, three roles (worker, api, bridge): the command picks the role.
# syntax=docker/dockerfile:1

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci

FROM deps AS build
COPY . .
RUN npm run build \
  # Bundle the workflow code once at build time, so a worker starts without webpack.
  && node -e "require('@temporalio/worker').bundleWorkflowCode(require('./dist/workers/workflow-bundle-options').workflowBundleOptions()).then(b => require('fs').writeFileSync('dist/workflow-bundle.js', b.code))" \
  && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
# Override per service: node dist/workers/main.js | node dist/api/main.js | node dist/scripts/migrate.js
CMD ["node", "dist/api/main.js"]
