# Shared helpers for the stack tool. Sourced by stack/stack.sh and by each service module.
# Every service module (stack/<name>.sh) defines <name>_up, <name>_down, <name>_status and <name>_log,
# and keeps its state, data and logs under "$STACK_DIR/<name>".

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
mkdir -p "$STACK_DIR"

# Configuration: the environment wins, then .env, then .env.example (the documented defaults).
load_env() {
  local f
  for f in "$ROOT/.env" "$ROOT/.env.example"; do
    [ -f "$f" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in ''|\#*) continue ;; esac
      local key="${line%%=*}" value="${line#*=}"
      # A value with spaces is written in double quotes, so that a shell can source the file too.
      case "$value" in \"*\") value="${value:1:${#value}-2}" ;; esac
      [ -n "${!key+x}" ] || export "$key=$value"
    done <"$f"
  done
}
load_env

say() { printf '[stack] %s\n' "$*" >&2; }

# fail SERVICE WHY [LOGFILE]: name the service that failed, why, and the tail of its log; exit non-zero.
fail() {
  local service="$1" why="$2" logfile="${3:-}"
  printf '[stack] %s FAILED: %s\n' "$service" "$why" >&2
  if [ -n "$logfile" ] && [ -f "$logfile" ]; then
    printf '[stack] last lines of %s:\n' "$logfile" >&2
    tail -n 30 "$logfile" | sed 's/^/    /' >&2
  fi
  exit 1
}

# wait_until SECONDS COMMAND...: retry COMMAND every 0.2 s until it succeeds or SECONDS pass.
wait_until() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# apt_install PACKAGE...: install Debian packages that are missing, running apt-get update once.
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if [ ! -f "$STACK_DIR/.apt-updated" ]; then
    apt-get update -qq >&2 || return 1
    touch "$STACK_DIR/.apt-updated"
  fi
  # A package's post-install must not start its daemon on the machine's default port: the stack
  # starts what it needs itself, in project-owned folders. policy-rc.d answering 101 forbids it.
  local guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  local status=$?
  [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
  return $status
}

# as_user USER COMMAND...: run COMMAND as USER when we are root (servers such as PostgreSQL refuse
# to run as root), or as ourselves otherwise.
as_user() {
  local user="$1"; shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# pid_alive PIDFILE: true when the pid file names a running process.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid PIDFILE [SECONDS]: SIGTERM, wait, then SIGKILL; removes the pid file.
stop_pid() {
  local pidfile="$1" grace="${2:-20}" pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null
  wait_until "$grace" bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
  rm -f "$pidfile"
}
