#!/usr/bin/env bash
# `npm test`: sets up everything a fresh clone needs, then runs every check and test tier.
#   lint and format, type check, unit tests, the stack, migrations, integration tests,
#   a build (the web console too), and end-to-end tests against the built apps, the console's in Chromium.
# Tests use their own database (POSTGRES_DB_TEST), Kafka topic and consumer groups, and never touch
# the development ones.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/node-env.sh
ensure_node_modules

export NODE_ENV=test
export POSTGRES_DB="${POSTGRES_DB_TEST:-latchkey_test}"
# The same goes for Kafka: the test database's events go to a topic of their own, read by consumer
# groups of their own (named after the client id), so a later `npm start` on this machine never feeds
# them into the development read models.
export KAFKA_EVENTS_TOPIC="${KAFKA_EVENTS_TOPIC_TEST:-latchkey.test.events}"
export KAFKA_CLIENT_ID="${KAFKA_CLIENT_ID_TEST:-latchkey-test}"
source stack/lib.sh # exports the configuration: the environment, then .env, then .env.example

step() { printf '\n== %s\n' "$*" >&2; }

step "lint, format and types"
npx eslint --max-warnings 0 .
npx prettier --check --log-level warn .
npx tsc -p tsconfig.json --noEmit

step "unit tests"
npx jest --selectProjects unit

# Leave the stack as we found it: stop afterwards only what this run had to start.
if ! bash stack/stack.sh status >/dev/null 2>&1; then
  trap 'step "stopping the stack this run started"; bash stack/stack.sh down' EXIT
fi
step "stack"
bash stack/stack.sh up
# The replay suites rebuild and swap whole read models: they get a database of their own.
POSTGRES_DB="${POSTGRES_DB}_replay" bash stack/stack.sh up postgres >/dev/null
# Debian's docker-compose validates docker-compose.yml without a Docker engine.
command -v docker-compose >/dev/null || (source stack/lib.sh && apt_install docker-compose)

# The console's end-to-end tests drive Debian's Chromium headless (playwright-core; Playwright's own
# browser download does not work on these machines).
[ -x /usr/bin/chromium ] || (source stack/lib.sh && apt_install chromium)

step "build and migrations"
npm run --silent build
node dist/apps/cli/src/main.js migrate

step "integration and end-to-end tests"
npx jest --selectProjects integration e2e --runInBand
