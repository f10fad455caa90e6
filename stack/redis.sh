# Redis: reuse a server that already answers on REDIS_PORT, or run a project-owned one under .stack/redis.

REDIS_HOME="$STACK_DIR/redis"
REDIS_PID="$REDIS_HOME/redis.pid"
REDIS_LOG="$REDIS_HOME/redis.log"

redis_ping() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_up() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
    || apt_install redis-server redis-tools || fail redis "apt-get could not install redis-server"
  redis_ping && return 0
  if port_open "$REDIS_HOST" "$REDIS_PORT"; then
    fail redis "something on $REDIS_HOST:$REDIS_PORT accepts connections but does not answer PING"
  fi
  mkdir -p "$REDIS_HOME"
  # Append-only persistence keeps pending jobs across a restart of ours; PostgreSQL stays the source of truth.
  redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" --daemonize yes --pidfile "$REDIS_PID" \
    --logfile "$REDIS_LOG" --dir "$REDIS_HOME" --save "" --appendonly yes >/dev/null \
    || fail redis "redis-server did not start" "$REDIS_LOG"
  wait_until 15 redis_ping || fail redis "no PONG from $REDIS_HOST:$REDIS_PORT" "$REDIS_LOG"
}

redis_down() {
  pid_alive "$REDIS_PID" || return 0
  say "redis: stopping the project-owned server"
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
  stop_pid "$REDIS_PID" 10
}

redis_status() {
  local who="the machine's"
  pid_alive "$REDIS_PID" && who="project-owned"
  if redis_ping; then echo "redis: up ($who, $REDIS_HOST:$REDIS_PORT)"; else echo "redis: down"; return 1; fi
}

redis_log() { echo "$REDIS_LOG"; }
