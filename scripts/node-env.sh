# Sourced by the other scripts: puts the Node.js version pinned in .nvmrc first on PATH.
# A machine whose own node is older (Debian's Node 20 is past end of life) gets the official
# binary from the npm registry's `node` package, installed under .tools/, leaving the system alone.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
NODE_WANTED="$(tr -d ' \n' <"$ROOT/.nvmrc")"
NODE_PREFIX="$ROOT/.tools/node-$NODE_WANTED"

if [ "$(node --version 2>/dev/null)" != "v$NODE_WANTED" ]; then
  if [ ! -x "$NODE_PREFIX/node_modules/.bin/node" ]; then
    echo "[setup] installing Node.js $NODE_WANTED into .tools/ (the machine has $(node --version 2>/dev/null || echo none))" >&2
    npm install --silent --no-save --prefix "$NODE_PREFIX" "node@$NODE_WANTED" >&2 \
      || { echo "[setup] could not install Node.js $NODE_WANTED from the npm registry" >&2; exit 1; }
  fi
  export PATH="$NODE_PREFIX/node_modules/.bin:$PATH"
fi

# Install dependencies when the lock file changed since the last install.
ensure_node_modules() {
  local stamp="$ROOT/node_modules/.installed-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/package-lock.json" "$stamp"; then
    echo "[setup] installing npm dependencies" >&2
    (cd "$ROOT" && npm ci --no-fund --no-audit --loglevel=error >&2) || { echo "[setup] npm ci failed" >&2; exit 1; }
    cp "$ROOT/package-lock.json" "$stamp"
  fi
}

# kafkajs 2.2.4's request queue can schedule a timer with a negative delay, which Node 24 reports
# as a TimeoutNegativeWarning (kafkajs issue #1751); Node treats it as 1 ms, so the warning is noise.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--disable-warning=TimeoutNegativeWarning"
