#!/usr/bin/env bash
# PostgreSQL's own CPU for the refresh fast path's UPDATE, per statement and per row.
#
# Runs the statement of `storage/sql/refreshes.rs` (rotation_of_current_statement, without
# its `current_jti = $2` condition so that every execution updates its rows) with pgbench,
# one client, on the rotation connections' settings (`synchronous_commit = off`, generic
# plans), for batches of 1 and 8 rows, on a database of its own migrated by authd and seeded
# with 32 sessions. PostgreSQL's CPU is read from /proc before and after each run.
#   load/pgbench_rotation.sh        (needs target/release/authd: `cargo build --release`)
set -euo pipefail
cd "$(dirname "$0")/.."
admin_url=${AUTH_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench | tail -1)
db=authd_pgbench_$(date +%s)
psql "$admin_url" -qc "CREATE DATABASE $db"
trap 'psql "$admin_url" -qc "DROP DATABASE $db WITH (FORCE)"' EXIT
url=${admin_url%/*}/$db
AUTH_DATABASE_URL=$url target/release/authd migrate > /dev/null 2>&1
psql "$url" -q <<'SQL'
INSERT INTO users (id, name, email, email_normalized, password_hash, created_at)
  SELECT 'u' || g, 'Ana', 'u' || g || '@example.com', 'u' || g || '@example.com', 'x', 0
  FROM generate_series(0, 31) g;
INSERT INTO sessions (id, user_id, created_at, expires_at, current_jti, current_issued_at, current_expires_at)
  SELECT 's' || g, 'u' || g, 0, 9999999999, 'j', 0, 0 FROM generate_series(0, 31) g;
SQL

postgres_ticks() {
  local total=0
  for pid in $(pgrep -x postgres); do
    read -r -a stat < "/proc/$pid/stat" 2> /dev/null || continue
    total=$((total + stat[13] + stat[14]))
  done
  echo "$total"
}

script=$(mktemp)
trap 'rm -f "$script" "$script.out"; psql "$admin_url" -qc "DROP DATABASE $db WITH (FORCE)"' EXIT
seconds=8
for rows in 1 8; do
  values=$(for i in $(seq 0 $((rows - 1))); do
    echo "('s' || ((:first + $i) % 32), 'j', md5(:first::text || '$i'), 1::bigint, 2::bigint, 3::bigint)"
  done | paste -sd, -)
  cat > "$script" <<SQL
\set first random(0, 31)
UPDATE sessions SET previous_jti = current_jti, current_jti = v.column3, current_issued_at = v.column4, current_expires_at = CASE WHEN v.column5 < sessions.expires_at THEN v.column5 ELSE sessions.expires_at END, rotated_at = v.column6 FROM (VALUES $values) AS v WHERE sessions.id = v.column1 AND sessions.revoked_at IS NULL AND sessions.expires_at > v.column6 RETURNING id, user_id, created_at, expires_at, revoked_at, current_jti, current_issued_at, current_expires_at, previous_jti, rotated_at, method, client_id, scope;
SQL
  # Sampled while the run's backend lives: its CPU is gone from /proc once pgbench exits.
  PGOPTIONS="-c synchronous_commit=off -c plan_cache_mode=force_generic_plan" \
    "$pgbench" -n -M prepared -c 1 -T "$seconds" -f "$script" "$url" > "$script.out" 2>&1 &
  sleep 1
  before=$(postgres_ticks)
  sleep $((seconds - 2))
  after=$(postgres_ticks)
  wait
  tps=$(awk '/^tps/ {print $3}' "$script.out")
  awk -v rows="$rows" -v tps="$tps" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s=$((seconds - 2)) 'BEGIN {
    per_statement = ticks / hz / (tps * s) * 1e6
    printf "%d row(s) a statement: %.0f statements/s, PostgreSQL %.0f us a statement, %.0f us a row\n", rows, tps, per_statement, per_statement / rows
  }'
done
