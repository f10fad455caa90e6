# Apache Kafka for the stack: one KRaft node (broker + controller in one JVM) on 127.0.0.1.
# Sourced after stack/lib.sh; defines kafka_up, kafka_down, kafka_status, kafka_log and nothing runs here.
#
# There is no Kafka download on this machine, only Maven Central, so the broker's jars come from
# stack/kafka/pom.xml (the one place the Kafka version is pinned) and run with the machine's Java 17.
#
# Reads (defaults in brackets):
#   KAFKA_PORT             client listener, what apps put in KAFKA_BROKERS  [9092]
#   KAFKA_CONTROLLER_PORT  KRaft controller listener, only the broker uses it  [9093]
#   KAFKA_HEAP_OPTS        JVM heap for the broker  [-Xms256m -Xmx512m]
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer  [90]
#
# State lives in $STACK_DIR/kafka: libs/ (jars), data/ (topics, offsets, KRaft metadata), logs/,
# server.properties (rewritten on every start) and kafka.pid.

kafka_log() { printf '%s\n' "$STACK_DIR/kafka/logs/server.log"; }

kafka_up() {
  local home="$STACK_DIR/kafka" port="${KAFKA_PORT:-9092}"
  # Fast path: our broker is running and speaks the Kafka protocol; no JVM, no Maven.
  if _kafka_ours; then
    _kafka_answers "$port" && return 0
    # Running but silent: most likely another kafka_up started it a moment ago.
    say "kafka: pid $(cat "$home/kafka.pid") is running but not answering yet; waiting"
    _kafka_wait_ready "$(cat "$home/kafka.pid")" -1
    return
  fi
  _kafka_check_ports
  _kafka_need_java
  _kafka_fetch_libs
  mkdir -p "$home/data" "$home/logs"
  _kafka_write_config
  _kafka_format
  _kafka_start
}

kafka_down() {
  local pidfile="$STACK_DIR/kafka/kafka.pid"
  if _kafka_ours; then
    say "kafka: stopping pid $(cat "$pidfile")"
    # SIGTERM makes Kafka shut down cleanly (flush, close segments); give it time before stop_pid's SIGKILL.
    stop_pid "$pidfile" 60
  else
    rm -f "$pidfile" # stale: that process is gone or is not our broker
  fi
  return 0
}

kafka_status() {
  local port="${KAFKA_PORT:-9092}" pid
  if ! _kafka_ours; then echo "kafka: down"; return 1; fi
  pid="$(cat "$STACK_DIR/kafka/kafka.pid")"
  if _kafka_answers "$port"; then
    echo "kafka: up (pid $pid, 127.0.0.1:$port, Kafka $(_kafka_installed_version))"
  else
    echo "kafka: not answering (pid $pid, 127.0.0.1:$port)"; return 1
  fi
}

# --- helpers -------------------------------------------------------------------------------------

# The version pinned in the pom (<kafka.version>), so the fetch can tell whether libs/ is current.
_kafka_pinned_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/stack/kafka/pom.xml"
}

# The version of the jars in libs/ (what a running broker was started from).
_kafka_installed_version() {
  local jar
  for jar in "$STACK_DIR"/kafka/libs/kafka_2.13-*.jar; do
    [ -f "$jar" ] && { jar="${jar##*/kafka_2.13-}"; echo "${jar%.jar}"; return; }
  done
  echo unknown
}

# True when the pid file names a live process that is our broker (not a recycled pid).
_kafka_ours() {
  local pidfile="$STACK_DIR/kafka/kafka.pid"
  pid_alive "$pidfile" || return 1
  tr '\0' ' ' <"/proc/$(cat "$pidfile")/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $STACK_DIR/kafka/server.properties"
}

# _kafka_answers PORT: a real protocol check, cheap enough for the fast path. Sends an ApiVersions v0
# request (api key 18, correlation id "LTCH", client id "stack") over bash's /dev/tcp and expects the
# response header to echo the correlation id with error code 0. Every broker version accepts v0.
_kafka_answers() {
  local reply
  reply="$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "\x00\x00\x00\x0f\x00\x12\x00\x00LTCH\x00\x05stack" >&3
    head -c 10 <&3 | od -An -tx1' _ "$1" 2>/dev/null)" || return 1
  # bytes: 4 length, then 4 correlation id ("LTCH") and 2 error code (0 = none)
  [[ "$reply" == *" 4c 54 43 48 00 00" ]]
}

# Refuse to start when something that is not our broker already holds one of our ports.
_kafka_check_ports() {
  local p
  for p in "${KAFKA_PORT:-9092}" "${KAFKA_CONTROLLER_PORT:-9093}"; do
    port_open 127.0.0.1 "$p" &&
      fail kafka "127.0.0.1:$p is already in use by a process this stack did not start (see: ss -ltnp 'sport = :$p'); stop it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT" "$(kafka_log)"
  done
  return 0
}

# Kafka 4 brokers need Java 17 or newer.
_kafka_need_java() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless || fail kafka "could not install Java 17"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [ "${major%%.*}" -ge 17 ] 2>/dev/null || fail kafka "Kafka 4 needs Java 17 or newer; 'java' on PATH is ${major:-unknown}"
}

# Download the broker's jars once per pinned version. The stamp file is written only after Maven
# succeeded, so an interrupted download is retried rather than run half-complete.
_kafka_fetch_libs() {
  local version libs="$STACK_DIR/kafka/libs"
  version="$(_kafka_pinned_version)"
  [ -n "$version" ] || fail kafka "no <kafka.version> in stack/kafka/pom.xml"
  [ -f "$libs/.fetched-$version" ] && return 0
  command -v mvn >/dev/null || fail kafka "Maven (mvn) is needed to fetch the Kafka jars"
  say "kafka: fetching Kafka $version jars with Maven (first run only)"
  rm -rf "$libs"
  mkdir -p "$STACK_DIR/kafka/logs"
  # Maven prints its errors on stdout; keep them in a log that the failure message shows.
  mvn -q -B -f "$ROOT/stack/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" -Dmaven.repo.local="$STACK_DIR/m2" \
    >"$STACK_DIR/kafka/logs/maven.log" 2>&1 ||
    fail kafka "Maven could not fetch Kafka $version (stack/kafka/pom.xml)" "$STACK_DIR/kafka/logs/maven.log"
  touch "$libs/.fetched-$version"
}

# Rewritten on every start so a changed port takes effect. Single node: every replication factor is 1.
_kafka_write_config() {
  local home="$STACK_DIR/kafka" port="${KAFKA_PORT:-9092}" cport="${KAFKA_CONTROLLER_PORT:-9093}"
  cat >"$home/server.properties" <<EOF
# Generated by stack/kafka.sh on every start; edit that file, not this one.
process.roles=broker,controller
node.id=1
# A static voter set (not --standalone's dynamic one): the controller's address is not stored in
# the metadata log, so changing KAFKA_CONTROLLER_PORT later needs no reformat.
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$home/data
num.partitions=3
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Consumers in tests join a group once; don't make them wait 3 s for more members.
group.initial.rebalance.delay.ms=0
EOF
}

# KRaft storage must be formatted once with a cluster id; after that data/meta.properties exists.
_kafka_format() {
  local home="$STACK_DIR/kafka" id
  [ -f "$home/data/meta.properties" ] && return 0
  id="$(_kafka_java kafka.tools.StorageTool random-uuid 2>"$home/logs/format.log")" ||
    fail kafka "could not generate a cluster id" "$home/logs/format.log"
  say "kafka: formatting KRaft storage (cluster id $id)"
  # Static voters (controller.quorum.voters) need neither --standalone nor --initial-controllers.
  _kafka_java kafka.tools.StorageTool format --cluster-id "$id" --config "$home/server.properties" \
    >>"$home/logs/format.log" 2>&1 || fail kafka "formatting KRaft storage failed" "$home/logs/format.log"
}

_kafka_start() {
  local home="$STACK_DIR/kafka" pidfile="$STACK_DIR/kafka/kafka.pid" log offset=0
  log="$(kafka_log)"
  # Remember where this run's lines begin, so an old "started" line cannot satisfy the wait.
  [ -f "$log" ] && offset="$(stat -c %s "$log")"
  say "kafka: starting Kafka $(_kafka_installed_version) on 127.0.0.1:${KAFKA_PORT:-9092}"
  rm -f "$pidfile"
  : >"$home/logs/kafka.out" # this start's JVM output only
  # setsid: the broker outlives this shell and ignores the terminal's Ctrl-C / hangup. setsid forks
  # when the caller has job control on, so $! is not always the JVM: the child writes its own pid
  # and then execs java, which keeps that pid.
  # shellcheck disable=SC2016,SC2086 # $$ is the child's; KAFKA_HEAP_OPTS holds several flags
  setsid bash -c 'echo $$ >"$0" && exec "$@"' "$pidfile" \
    java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dkafka.logs.dir="$home/logs" -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.xml" \
    -cp "$home/libs/*" kafka.Kafka "$home/server.properties" \
    </dev/null >>"$home/logs/kafka.out" 2>&1 &
  wait_until 10 test -s "$pidfile" || _kafka_fail "could not launch java"
  _kafka_wait_ready "$(cat "$pidfile")" "$offset"
}

# _kafka_wait_ready PID LOG_OFFSET: until the broker logged "Kafka Server started" after LOG_OFFSET
# (-1: don't look at the log) and answers ApiVersions. Fails at once if the JVM exits.
_kafka_wait_ready() {
  local pid="$1" offset="$2" port="${KAFKA_PORT:-9092}" log deadline
  log="$(kafka_log)"
  deadline=$(( $(date +%s) + ${KAFKA_START_TIMEOUT:-90} ))
  while :; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$STACK_DIR/kafka/kafka.pid"; _kafka_fail "the broker exited during startup"; }
    if [ "$offset" -lt 0 ] || _kafka_logged_started "$log" "$offset"; then
      _kafka_answers "$port" && return 0
    fi
    [ "$(date +%s)" -lt "$deadline" ] || _kafka_fail "no answer on 127.0.0.1:$port after ${KAFKA_START_TIMEOUT:-90} s (pid $pid left running; kafka_down stops it)"
    sleep 0.3
  done
}

_kafka_logged_started() {
  local log="$1" offset="$2"
  [ -f "$log" ] || return 1
  [ "$(stat -c %s "$log")" -ge "$offset" ] || offset=0 # the log rolled over meanwhile
  tail -c +"$((offset + 1))" "$log" | grep -q 'Kafka Server started'
}

# Run a Kafka tool's main class with the broker's classpath; it logs only warnings, to server.log.
_kafka_java() {
  local home="$STACK_DIR/kafka"
  java -Xmx256m -Dkafka.logs.dir="$home/logs" -Dkafka.log.level=warn \
    -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.xml" -cp "$home/libs/*" "$@"
}

# JVM errors (bad flags, wrong Java) never reach server.log, only kafka.out: show that too, then fail.
_kafka_fail() {
  local out="$STACK_DIR/kafka/logs/kafka.out"
  if [ -s "$out" ]; then
    say "kafka: last lines of $out:"
    tail -n 15 "$out" | sed 's/^/    /' >&2
  fi
  fail kafka "$1" "$(kafka_log)"
}
