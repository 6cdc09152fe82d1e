#!/usr/bin/env bash
# The README's quick start as CI runs it: `npm start` on the embedded defaults (its own Temporal dev
# server, SQLite in ./data, worker, API), `npm run demo` against it (which exits 1 unless every order
# ends as it says), then Ctrl-C, after which nothing `npm start` started may still listen.
set -euo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
api_port="${PORT:-3000}"
ports=(7233 8233 "$api_port" 9464 9466)
for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is taken: the quick start needs it" >&2
    exit 1
  fi
done
# Its own process group, so the Ctrl-C below reaches npm and everything under it, as a terminal's would.
setsid npm start >"$log" 2>&1 &
start_pid=$!
failed() {
  echo "quick start: $*; npm start printed:" >&2
  tail -n 60 "$log" >&2
  kill -KILL -- "-$start_pid" 2>/dev/null || true
  exit 1
}
deadline=$((SECONDS + 180))
until curl -fsS "http://localhost:$api_port/health/ready" >/dev/null 2>&1; do
  kill -0 "$start_pid" 2>/dev/null || failed "npm start exited before the API was ready"
  [ "$SECONDS" -lt "$deadline" ] || failed "the API was not ready within 180 s"
  sleep 1
done
echo "npm start ready after ${SECONDS} s"
npm run -s demo || failed "npm run demo failed"
kill -INT -- "-$start_pid"
deadline=$((SECONDS + 60))
while kill -0 "$start_pid" 2>/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || failed "npm start still running 60 s after Ctrl-C"
  sleep 1
done
# npm reports the Ctrl-C itself as 130 (128 + SIGINT), as it does on a terminal; anything else is a failure.
status=0
wait "$start_pid" || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 130 ] || failed "npm start exited with $status after Ctrl-C"
for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then failed "port $port still listens after Ctrl-C"; fi
done
echo "quick start: npm start, npm run demo and Ctrl-C all as the README says"
