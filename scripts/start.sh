#!/usr/bin/env bash
# `npm start`: brings up the stack, applies migrations, builds and runs the API and the sync worker
# in the foreground. Ctrl-C stops both; `npm run stack -- down` stops the stack.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/node-env.sh
ensure_node_modules

if [ ! -f .env ]; then
  cp .env.example .env
  echo "[setup] created .env from .env.example (development values; edit it to change ports or credentials)" >&2
fi
source stack/lib.sh # load_env: the environment, then .env, then .env.example
# Both processes run here: the worker relays the outbox and feeds the Kafka read models, so the API's
# event loop serves requests only (verification latency; README, "Verification from memory").
export EVENT_RELAY_IN="${EVENT_RELAY_IN:-sync-worker}"

bash stack/stack.sh up
npm run --silent build
node dist/apps/cli/src/main.js migrate

node dist/apps/api/src/main.js &
api=$!
node dist/apps/sync-worker/src/main.js &
worker=$!
trap 'kill -TERM $api $worker 2>/dev/null; wait $api $worker 2>/dev/null' INT TERM EXIT

for url in "http://127.0.0.1:$API_PORT/health" "http://127.0.0.1:$WORKER_HEALTH_PORT/health"; do
  for _ in $(seq 1 150); do curl -fsS "$url" >/dev/null 2>&1 && break; sleep 0.2; done
done
node dist/apps/cli/src/main.js demo --api "http://127.0.0.1:$API_PORT"
cat <<MSG

Latchkey is running.
  API:                 http://127.0.0.1:$API_PORT/v1   (OpenAPI: /docs, metrics: /metrics)
  web console:         http://127.0.0.1:$API_PORT/console/   (sign-in: "The web console" in README.md)
  API health:          http://127.0.0.1:$API_PORT/health
  sync worker health:  http://127.0.0.1:$WORKER_HEALTH_PORT/health
  demo tenant:         source .stack/demo.env, then follow "Try it" in README.md
  stack status:        npm run stack -- status      (logs: npm run stack -- logs)
Ctrl-C stops the API and the worker; the stack keeps running until \`npm run stack -- down\`.

MSG
wait -n $api $worker
