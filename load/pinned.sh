#!/usr/bin/env bash
# Refresh on both backends with the database on a core of its own.
#
# On this 2-core machine k6, authd and PostgreSQL otherwise share both cores, so every
# microsecond PostgreSQL spends is taken from authd. Deployed, the database runs on its
# own cores. This script gives PostgreSQL and Redis one CPU (DATABASE_CPU, default 1) and
# k6 with authd the other (APP_CPU, default 0), runs `load/refresh.js` on SQLite and then
# on PostgreSQL + Redis (ROUNDS times, default 2), and puts every process's CPU set back.
# It changes the CPU affinity of the machine's running PostgreSQL and Redis while it runs.
#   load/pinned.sh                  both backends, twice
#   LOAD_SCENARIOS="me" load/pinned.sh   other scenarios the same way
set -euo pipefail
cd "$(dirname "$0")/.."
database_cpu=${DATABASE_CPU:-1}
app_cpu=${APP_CPU:-0}
rounds=${ROUNDS:-2}
scenarios=${LOAD_SCENARIOS:-refresh}

# Build first, on every core, so the pinned runs only measure.
cargo build --quiet --release --bin authd --example hello --example argon2_rate

declare -A masks
for pid in $(pgrep -x postgres) $(pgrep -x redis-server); do
  masks[$pid]=$(taskset -p "$pid" | awk '{print $NF}')
done
restore() {
  for pid in "${!masks[@]}"; do
    taskset -a -p "${masks[$pid]}" "$pid" > /dev/null 2>&1 || true
  done
}
trap restore EXIT
for pid in "${!masks[@]}"; do
  taskset -a -c -p "$database_cpu" "$pid" > /dev/null
done
echo "PostgreSQL and Redis on CPU $database_cpu (${#masks[@]} processes); k6 and authd on CPU $app_cpu"

for round in $(seq 1 "$rounds"); do
  for backend in sqlite postgres; do
    echo "### round $round: $backend"
    LOAD_BACKEND=$backend LOAD_SCENARIOS=$scenarios taskset -c "$app_cpu" load/run.sh
  done
done
