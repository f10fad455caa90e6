# Sourced by bench/*.sh: the environment every bench runs in. The bench's own database, Kafka topic,
# consumer-group and Redis prefixes keep it apart from the development and test data; set any of
# them (or BENCH_* from bench/lib/settings.ts) in the environment to change them.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export POSTGRES_DB="${POSTGRES_DB_BENCH:-latchkey_bench}"
export KAFKA_EVENTS_TOPIC="${BENCH_KAFKA_TOPIC:-latchkey.bench.events}"
export KAFKA_CLIENT_ID="${BENCH_KAFKA_CLIENT_ID:-latchkey-bench}"
export REDIS_PREFIX="${BENCH_REDIS_PREFIX:-latchkey-bench}"
# As `npm start` runs it: a sync worker beside the API relays the outbox and feeds the Kafka read
# models (BENCH_EVENT_RELAY_IN=api: the API does, alone).
export EVENT_RELAY_IN="${BENCH_EVENT_RELAY_IN:-sync-worker}"
source scripts/node-env.sh
source stack/lib.sh # the configuration: the environment, then .env, then .env.example

# TypeScript straight from source with the repository's toolchain: ts-node (transpile only; `npm run
# typecheck` checks bench/ too) and tsconfig-paths for the @latchkey/* aliases.
export TS_NODE_TRANSPILE_ONLY=1
export TS_NODE_PROJECT="$ROOT/tsconfig.json"
BENCH_NODE_ARGS=(-r ts-node/register -r tsconfig-paths/register)

bench_prepare() {
  ensure_node_modules
  command -v wrk >/dev/null || apt_install wrk || { echo "[bench] wrk is needed (apt-get install wrk)" >&2; exit 1; }
  # BENCH_SKIP_STACK=1: the services are managed elsewhere (say, a bench run from a copy of the tree).
  # Otherwise leave the stack as found (as npm test does): stop afterwards only what this run started.
  if [ "${BENCH_SKIP_STACK:-0}" != 1 ]; then
    BENCH_STARTED=()
    local s
    # Whether PostgreSQL runs is asked of its `postgres` database: the bench's own may not exist
    # yet, and "cannot log in to it" once made a run stop, at exit, a server someone else was using.
    # The sync worker's health includes the directory it reads: it needs the Samba DC up.
    local services=(postgres redis kafka)
    [ "$EVENT_RELAY_IN" = sync-worker ] && services+=(samba)
    for s in "${services[@]}"; do
      POSTGRES_DB=postgres bash stack/stack.sh status "$s" >/dev/null 2>&1 || BENCH_STARTED+=("$s")
    done
    bash stack/stack.sh up "${services[@]}" >&2
    if [ ${#BENCH_STARTED[@]} -gt 0 ]; then
      trap 'echo "[bench] stopping what this run started: ${BENCH_STARTED[*]}" >&2; bash stack/stack.sh down "${BENCH_STARTED[@]}" >&2' EXIT
    fi
  fi
  if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    echo "[bench] building the apps (BENCH_SKIP_BUILD=1 to use dist/ as it is)" >&2
    npm run --silent build >&2
  fi
  node dist/apps/cli/src/main.js migrate >&2
}
