#!/usr/bin/env bash
# Two authd instances sharing PostgreSQL and a Redis this script owns, under load/cluster.js.
#   load/cluster.sh cluster                 the mix over both instances
#   load/cluster.sh cluster_redis_restart   the same, with the Redis stopped for 2 s halfway
# load/run.sh calls it for those two scenarios (with SMOKE, DURATION, VUS as for the rest);
# BINARY, K6 and RESULTS say which authd, which k6 and where the summary goes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scenario=${1:?usage: load/cluster.sh cluster|cluster_redis_restart}
binary=${BINARY:-$root/target/release/authd}
k6=${K6:-$root/load/.venv/bin/k6}
results=${RESULTS:-$root/load/results}
mkdir -p "$results"

admin_url=${AUTH_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db=authd_cluster_$(date +%s)_$$
psql "$admin_url" -qc "CREATE DATABASE $db"
redis_port=${LOAD_REDIS_PORT:-18479}
ports=(${LOAD_CLUSTER_PORTS:-18481 18482})
work=$(mktemp -d)

start_redis() {
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no > "$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping > /dev/null 2>&1 && return; sleep 0.1; done
  echo "redis-server did not start"; cat "$work/redis.log"; exit 1
}

servers=()
cleanup() {
  [ -f "$work/redis.pid" ] && redis_pid=$(cat "$work/redis.pid")
  for pid in ${restarter:-} "${servers[@]}" ${redis_pid:-}; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_redis
# As in load/run.sh: k6 is one client address doing the work of thousands of users.
common_env=(AUTH_LOG_FORMAT=json RUST_LOG=warn
  AUTH_DATABASE_URL=${admin_url%/*}/$db AUTH_REDIS_URL=redis://127.0.0.1:$redis_port AUTH_REDIS_NAMESPACE=authd-cluster
  AUTH_THROTTLE_FREE_FAILURES=1000000 AUTH_THROTTLE_IP_FAILURES=1000000 AUTH_THROTTLE_ACCOUNT_FAILURES=1000000
  AUTH_THROTTLE_IP_REQUESTS=1000000 AUTH_THROTTLE_ACCOUNT_REQUESTS=1000000)
urls=()
# One after the other, in one folder: the first makes the keys (signing, data, ID token)
# that the second then reads, as instances sharing a secret volume would.
for port in "${ports[@]}"; do
  (cd "$work" && exec env "${common_env[@]}" AUTH_LISTEN=127.0.0.1:$port "$binary" > "$work/authd-$port.log" 2>&1) &
  servers+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$port/health" > /dev/null || { echo "authd on $port did not start"; cat "$work/authd-$port.log"; exit 1; }
  urls+=("http://127.0.0.1:$port")
done

seconds() { # a k6 duration (3s, 15s, 10m) in seconds
  case $1 in *m) echo $((${1%m} * 60)) ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac
}
duration=${DURATION:-15s}
[ "${SMOKE:-}" = 1 ] && duration=6s
[ "${SOAK:-}" = 1 ] && duration=10m
if [ "$scenario" = cluster_redis_restart ]; then
  half=$(( $(seconds "$duration") / 2 ))
  ( sleep "$half"
    echo "   stopping Redis for 2 s at ${half}s"
    kill "$redis_pid"; sleep 2
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >> "$work/redis.log" 2>&1 &
    echo $! > "$work/redis.pid"; wait ) &
  restarter=$!
fi

status=0
BASE_URL=${urls[0]} BASE_URLS=$(IFS=,; echo "${urls[*]}") CLUSTER_DURATION=$duration \
  "$k6" run --quiet --no-color --summary-trend-stats "avg,med,p(95),p(99),max" \
  --summary-export "$results/$scenario.json" load/cluster.js > "$work/k6.out" 2>&1 || status=$?
if [ "$status" != 0 ]; then
  echo "   thresholds FAILED"
  grep -E "✗|ERRO|WARN" "$work/k6.out" | head -5 || true
fi
cp "$work/k6.out" "$results/$scenario.k6.out"
for i in "${!servers[@]}"; do
  pid=${servers[$i]}
  echo "   instance ${ports[$i]}: $(awk '/VmRSS/ {print $2 " " $3}' "/proc/$pid/status" 2>/dev/null) RSS, $(awk '/VmHWM/ {print $2 " " $3}' "/proc/$pid/status" 2>/dev/null) peak"
done
exit "$status"
