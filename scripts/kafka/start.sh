#!/usr/bin/env bash
# Start a KRaft Kafka node (combined broker+controller) on the JVM, in the
# background, and wait until it serves clients.
#   start.sh [--port 9092] [--data-dir DIR] [--pidfile FILE] [--log FILE]
#            [--node-id 1 --voters 1@127.0.0.1:9093,... --cluster-id ID --replication 1]
#            [--listener NAME:PORT:ADVERTISED_PORT]...
# Controller listener: PORT+1. Defaults: DIR=${KAFKA_HOME_DIR:-<repo>/.cache/kafka}/data,
# FILE=DIR/kafka.pid, LOG=DIR/kafka.log. Re-running on an existing DIR reuses
# the formatted storage (restart). A node of a cluster (devenv/cluster.py) names every
# voter and the shared cluster id; its start waits for a quorum, so start the nodes together.
# --replication sets the internal topics' replication. Each --listener adds a PLAINTEXT
# listener on 127.0.0.1:PORT that advertises 127.0.0.1:ADVERTISED_PORT, so a client behind a
# TCP proxy on that port keeps talking through the proxy (benchmarks/chaos_net.py).
# Env: KAFKA_HEAP_OPTS (default -Xmx512m), KAFKA_OPTS (extra JVM flags), KAFKA_START_TIMEOUT
# (default 60 s), KAFKA_BROKER_SESSION_TIMEOUT_MS and KAFKA_BROKER_HEARTBEAT_INTERVAL_MS
# (broker.session.timeout.ms / broker.heartbeat.interval.ms; unset: Kafka's 9000 / 2000).
# Last stdout line on success: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:PORT
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${KAFKA_HOME_DIR:-$(cd "$here/../.." && pwd)/.cache/kafka}"
port=9092 data_dir="$home/data" pidfile="" log="" extra_ports=()
node_id=1 voters="" cluster_id="" replication=1
listeners_extra="" advertised="" protocols="PLAINTEXT:PLAINTEXT"
while (($#)); do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    --pidfile) pidfile="$2"; shift 2 ;;
    --log) log="$2"; shift 2 ;;
    --node-id) node_id="$2"; shift 2 ;;
    --voters) voters="$2"; shift 2 ;;
    --cluster-id) cluster_id="$2"; shift 2 ;;
    --replication) replication="$2"; shift 2 ;;
    --listener)
      IFS=: read -r name lport aport <<<"$2"
      extra_ports+=("$lport")
      listeners_extra+=",$name://127.0.0.1:$lport" advertised+=",$name://127.0.0.1:$aport"
      protocols+=",$name:PLAINTEXT"
      shift 2 ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
done
mkdir -p "$data_dir"
data_dir="$(cd "$data_dir" && pwd)"
pidfile="${pidfile:-$data_dir/kafka.pid}"
log="${log:-$data_dir/kafka.log}"
mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")"
touch "$log"
props="$data_dir/server.properties"
voters="${voters:-$node_id@127.0.0.1:$((port + 1))}"
min_isr=$((replication > 1 ? 2 : 1))

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
fail() {
  echo "start.sh: $1; last 30 lines of $log:" >&2
  tail -n 30 "$log" >&2 || true
  exit 1
}

old_pid="$(cat "$pidfile" 2>/dev/null || true)"
if [[ -n "$old_pid" ]] && ps -o args= -p "$old_pid" 2>/dev/null | grep -q 'kafka\.Kafka'; then
  echo "start.sh: kafka already running (pid $old_pid), stop it first: stop.sh --pidfile $pidfile" >&2
  exit 1
fi
for p in "$port" "$((port + 1))" ${extra_ports[@]+"${extra_ports[@]}"}; do
  if port_open "$p"; then echo "start.sh: port $p is already in use" >&2; exit 1; fi
done

libs="$("$here/fetch.sh")"
kjava() { java -Dlog4j2.configurationFile="$here/log4j2.yaml" -cp "$libs/*" "$@"; }

cat >"$props" <<PROPS
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port$listeners_extra,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols,CONTROLLER:PLAINTEXT
log.dirs=$data_dir/logs
num.partitions=6
auto.create.topics.enable=true
offsets.topic.replication.factor=$replication
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replication
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
PROPS
# How long the controller waits for a silent node before fencing it (devenv/cluster.py).
if [[ -n "${KAFKA_BROKER_SESSION_TIMEOUT_MS:-}" ]]; then
  echo "broker.session.timeout.ms=$KAFKA_BROKER_SESSION_TIMEOUT_MS" >>"$props"
fi
if [[ -n "${KAFKA_BROKER_HEARTBEAT_INTERVAL_MS:-}" ]]; then
  echo "broker.heartbeat.interval.ms=$KAFKA_BROKER_HEARTBEAT_INTERVAL_MS" >>"$props"
fi

if [[ ! -f "$data_dir/logs/meta.properties" ]]; then
  # Tool output (config dump) goes to the log; the uuid is the last stdout line.
  [[ -n "$cluster_id" ]] ||
    cluster_id="$(kjava -Xmx256m kafka.tools.StorageTool random-uuid 2>>"$log" | tail -n 1)"
  kjava -Xmx256m kafka.tools.StorageTool format -t "$cluster_id" -c "$props" >>"$log" 2>&1 \
    || fail "storage format failed"
fi

start_line=$(($(wc -l <"$log") + 1))  # readiness only looks at lines after this
# shellcheck disable=SC2086  # KAFKA_HEAP_OPTS / KAFKA_OPTS are word lists
nohup java ${KAFKA_HEAP_OPTS:--Xmx512m} ${KAFKA_OPTS:-} \
  -Dlog4j2.configurationFile="$here/log4j2.yaml" -cp "$libs/*" \
  kafka.Kafka "$props" >>"$log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pidfile"

deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-60}))
until port_open "$port" &&
  awk -v n="$start_line" 'NR >= n && /Kafka Server started/ {f = 1; exit} END {exit !f}' "$log"; do
  ps -o stat= -p "$pid" 2>/dev/null | grep -qv Z || { rm -f "$pidfile"; fail "kafka exited during startup"; }
  if ((SECONDS >= deadline)); then
    "$here/stop.sh" --pidfile "$pidfile" || true
    fail "kafka not ready after ${KAFKA_START_TIMEOUT:-60}s (stopped it)"
  fi
  sleep 0.5
done
echo "start.sh: kafka started (pid $pid, data $data_dir, log $log)" >&2
echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port"
