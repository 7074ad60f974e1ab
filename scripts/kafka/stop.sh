#!/usr/bin/env bash
# Stop a broker started by start.sh: SIGTERM, wait up to ${KAFKA_STOP_TIMEOUT:-30}s,
# then SIGKILL. Usage: stop.sh [--pidfile FILE | --data-dir DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${KAFKA_HOME_DIR:-$(cd "$here/../.." && pwd)/.cache/kafka}"
pidfile="$home/data/kafka.pid"
while (($#)); do
  case "$1" in
    --pidfile) pidfile="$2"; shift 2 ;;
    --data-dir) pidfile="$2/kafka.pid"; shift 2 ;;
    *) echo "usage: stop.sh [--pidfile FILE | --data-dir DIR]" >&2; exit 2 ;;
  esac
done

# Alive and not a zombie (a reparented zombie still passes `kill -0`).
alive() { ps -o stat= -p "$1" 2>/dev/null | grep -qv Z; }

pid="$(cat "$pidfile" 2>/dev/null || true)"
# Only signal the pid if it is still our broker (guards against pid reuse).
if [[ -z "$pid" ]] || ! ps -o args= -p "$pid" 2>/dev/null | grep -q 'kafka\.Kafka'; then
  echo "stop.sh: kafka not running (pidfile $pidfile)" >&2
  rm -f "$pidfile"
  exit 0
fi

kill -TERM "$pid" 2>/dev/null || true
deadline=$((SECONDS + ${KAFKA_STOP_TIMEOUT:-30}))
while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
if alive "$pid"; then
  echo "stop.sh: pid $pid ignored SIGTERM for ${KAFKA_STOP_TIMEOUT:-30}s, sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  while alive "$pid"; do sleep 0.1; done
fi
rm -f "$pidfile"
echo "stop.sh: kafka (pid $pid) stopped" >&2
