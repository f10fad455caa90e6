#!/usr/bin/env bash
# bench/directory: the directory-sync and offboarding bars of PRODUCT.md §7, on the stack's Samba AD.
#   bash bench/directory.sh [directory|offboarding|all]     (default: all)
# Figures on stdout, one per line (`name value`, `<bench>.bar.<name> PASS|FAIL`); progress on stderr.
# Loopback only, fixed counts; stops what it starts. See bench/README.md ("Directory and offboarding").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export POSTGRES_DB="${POSTGRES_DB_BENCH:-latchkey_bench}"
# This bench's own bull keys, apart from the other benches' and the development data.
export REDIS_PREFIX="${BENCH_DIR_REDIS_PREFIX:-latchkey-bench-directory}"
# Passes run when the bench says (the worker's own timer must not take the tenant's lock mid-run).
export SYNC_POLL_INTERVAL_MS=3600000
source scripts/node-env.sh
source stack/lib.sh
export TS_NODE_TRANSPILE_ONLY=1 TS_NODE_PROJECT="$ROOT/tsconfig.json"
NODE_ARGS=(-r ts-node/register -r tsconfig-paths/register)
which="${1:-all}"

ensure_node_modules
command -v ldapsearch >/dev/null || apt_install ldap-utils || { echo "[bench] ldapsearch is needed (ldap-utils)" >&2; exit 1; }
[ "${BENCH_SKIP_STACK:-0}" = 1 ] || bash stack/stack.sh up postgres redis samba >&2
node dist/apps/cli/src/main.js migrate >&2 || { echo "[bench] run npm run build first" >&2; exit 1; }
# A bench run that died leaves its tenant connected: no later worker must sync it.
PGPASSWORD="$POSTGRES_PASSWORD" psql -q -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "
  DELETE FROM directory_sync_cookies WHERE tenant_id IN (SELECT tenant_id FROM tenants WHERE name LIKE 'bench-%');
  DELETE FROM directory_connections WHERE tenant_id IN (SELECT tenant_id FROM tenants WHERE name LIKE 'bench-%');" >&2

status=0
if [ "$which" = all ] || [ "$which" = directory ]; then node "${NODE_ARGS[@]}" bench/directory.ts || status=$?; fi
if [ "$which" = all ] || [ "$which" = offboarding ]; then node "${NODE_ARGS[@]}" bench/offboarding.ts || status=$?; fi
exit "$status"
