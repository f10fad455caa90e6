# PostgreSQL: reuse a server that already answers on POSTGRES_PORT (creating our role and database),
# or run a project-owned cluster from Debian's packages under .stack/postgres.

PG_HOME="$STACK_DIR/postgres"
PG_DATA="$PG_HOME/data"
PG_SOCKETS="$PG_HOME/run"
PG_LOG="$PG_HOME/postgres.log"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
pg_ours() { [ -f "$PG_DATA/postmaster.pid" ] && as_user postgres "$(pg_bin)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

# Run SQL with enough rights to create roles and databases, trying in turn: our own cluster's
# socket; `postgres` over TCP (trust or .pgpass); the configured role with its password (the
# superuser of docker-compose's server); the machine's socket as the postgres OS user (peer).
pg_admin_sql() {
  local sql="$1" tcp=(-h "$POSTGRES_HOST" -p "$POSTGRES_PORT")
  if [ -d "$PG_SOCKETS" ] && pg_ours; then
    as_user postgres psql -X -q -h "$PG_SOCKETS" -p "$POSTGRES_PORT" -U postgres -d postgres -tAc "$sql"
  elif PGCONNECT_TIMEOUT=3 psql -X -q -w "${tcp[@]}" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    psql -X -q -w "${tcp[@]}" -U postgres -d postgres -tAc "$sql"
  elif PGPASSWORD="$POSTGRES_PASSWORD" PGCONNECT_TIMEOUT=3 psql -X -q -w "${tcp[@]}" -U "$POSTGRES_USER" -d postgres \
      -tAc 'select 1 from pg_roles where rolname = current_user and rolcreatedb' 2>/dev/null | grep -q 1; then
    PGPASSWORD="$POSTGRES_PASSWORD" psql -X -q -w "${tcp[@]}" -U "$POSTGRES_USER" -d postgres -tAc "$sql"
  else
    as_user postgres psql -X -q -p "$POSTGRES_PORT" -d postgres -tAc "$sql"
  fi
}

# Idempotent: the role gets the configured password, the database exists and belongs to it.
pg_ensure_role_and_db() {
  local role="$POSTGRES_USER" db="$POSTGRES_DB" pw="${POSTGRES_PASSWORD//\'/\'\'}"
  pg_admin_sql "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE \"$role\" LOGIN; END IF;
      ALTER ROLE \"$role\" LOGIN PASSWORD '$pw';
    END \$\$;" >/dev/null || return 1
  if [ "$(pg_admin_sql "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    pg_admin_sql "CREATE DATABASE \"$db\" OWNER \"$role\"" >/dev/null || return 1
  fi
}

pg_can_login() {
  PGPASSWORD="$POSTGRES_PASSWORD" PGCONNECT_TIMEOUT=3 psql -X -w -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" \
    -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc 'select 1' >/dev/null 2>&1
}

pg_start_own_cluster() {
  [ -n "$(pg_bin)" ] || apt_install postgresql || fail postgres "apt-get could not install postgresql"
  local bin; bin="$(pg_bin)"
  mkdir -p "$PG_HOME" "$PG_SOCKETS"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PG_HOME"
  as_user postgres test -w "$PG_HOME" \
    || fail postgres "the postgres OS user cannot write $PG_HOME (a parent folder is closed to it); clone the repo somewhere readable"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    say "postgres: creating a project-owned cluster in $PG_DATA"
    as_user postgres "$bin/initdb" -D "$PG_DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$PG_HOME/initdb.log" 2>&1 || fail postgres "initdb failed" "$PG_HOME/initdb.log"
  fi
  as_user postgres "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start \
    -o "-p $POSTGRES_PORT -c listen_addresses=$POSTGRES_HOST -k $PG_SOCKETS" >/dev/null \
    || fail postgres "pg_ctl start failed" "$PG_LOG"
}

postgres_up() {
  command -v psql >/dev/null || apt_install postgresql-client || fail postgres "could not install psql"
  if ! pg_ours && port_open "$POSTGRES_HOST" "$POSTGRES_PORT"; then
    pg_can_login && return 0
    say "postgres: using the server already on $POSTGRES_HOST:$POSTGRES_PORT"
  elif ! pg_ours; then
    pg_start_own_cluster
  fi
  pg_can_login && return 0
  pg_ensure_role_and_db || fail postgres "could not create role '$POSTGRES_USER' and database '$POSTGRES_DB' (no superuser access on port $POSTGRES_PORT)" "$PG_LOG"
  wait_until 10 pg_can_login || fail postgres "role '$POSTGRES_USER' cannot log in to '$POSTGRES_DB'" "$PG_LOG"
}

postgres_down() {
  pg_ours || return 0
  say "postgres: stopping the project-owned cluster"
  as_user postgres "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
}

postgres_status() {
  local who="the machine's"
  pg_ours && who="project-owned"
  if pg_can_login; then
    echo "postgres: up ($who, $POSTGRES_HOST:$POSTGRES_PORT, database $POSTGRES_DB)"
  else
    echo "postgres: down"; return 1
  fi
}

postgres_log() { echo "$PG_LOG"; }
