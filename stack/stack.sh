#!/usr/bin/env bash
# The local stack without a Docker engine: PostgreSQL, Redis, Apache Kafka (KRaft) and a Samba AD
# domain controller on 127.0.0.1, with ports and credentials from .env / .env.example.
#
#   stack up [SERVICE...]      start (or reuse) and health-check; a second `up` changes nothing
#   stack down [SERVICE...]    stop only what the stack itself started
#   stack status [SERVICE...]  one line per service; exit 1 if any is down
#   stack logs [SERVICE...]    the tail of each service's log
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVICES=(postgres redis kafka samba)
for s in "${SERVICES[@]}"; do source "$ROOT/stack/$s.sh"; done

pick() {
  local s
  if [ $# -eq 0 ]; then printf '%s\n' "${SERVICES[@]}"; return; fi
  for s in "$@"; do
    [[ " ${SERVICES[*]} " == *" $s "* ]] || { echo "unknown service: $s (one of: ${SERVICES[*]})" >&2; exit 2; }
    echo "$s"
  done
}

cmd="${1:-status}"; shift || true
mapfile -t chosen < <(pick "$@")

case "$cmd" in
  up)
    for s in "${chosen[@]}"; do
      started=$(date +%s%N)
      "${s}_up" || fail "$s" "did not come up" "$("${s}_log")"
      elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
      say "$s ready in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s"
    done
    for s in "${chosen[@]}"; do "${s}_status"; done
    ;;
  down)
    for (( i=${#chosen[@]}-1; i>=0; i-- )); do "${chosen[$i]}_down"; done
    ;;
  status)
    rc=0
    for s in "${chosen[@]}"; do "${s}_status" || rc=1; done
    exit $rc
    ;;
  logs)
    for s in "${chosen[@]}"; do
      f="$("${s}_log")"
      echo "== $s: $f"
      if [ -f "$f" ]; then tail -n 40 "$f"; else echo "(no log: the stack did not start $s)"; fi
    done
    ;;
  *)
    sed -n '2,9p' "$0" >&2; exit 2 ;;
esac
