#!/usr/bin/env bash
# The Rust tests (one integration binary, tests/it, plus tests/architecture.rs and the unit
# tests), with cargo-nextest when installed, else cargo test.
#
# The cases that need PostgreSQL and Redis are #[ignore]d in the code: this script includes
# them when both answer at AUTH_TEST_DATABASE_URL / AUTH_TEST_REDIS_URL, and otherwise says
# so, leaving them listed as skipped (never passed). AUTH_TEST_REQUIRE_SERVICES=1 (make ci)
# always includes them, so a missing service fails the run. Timing runs (`time_*`) stay out.
# Extra arguments go to the runner (a filter, say).
set -euo pipefail
cd "$(dirname "$0")/.."
database=${AUTH_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
redis=${AUTH_TEST_REDIS_URL:-redis://127.0.0.1:6379}

# host and port of a URL like scheme://[user@]host[:port][/...]
endpoint() {
  local rest=${1#*://}
  rest=${rest##*@}
  rest=${rest%%/*}
  local host=${rest%%:*} port=$2
  [[ $rest == *:* ]] && port=${rest##*:}
  echo "$host $port"
}
answers() {
  read -r host port < <(endpoint "$1" "$2")
  timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

services=no
if [ "${AUTH_TEST_REQUIRE_SERVICES:-}" = 1 ]; then
  services=yes
elif answers "$database" 5432 && answers "$redis" 6379; then
  services=yes
else
  echo "PostgreSQL or Redis does not answer: their cases are skipped (scripts/ensure-services.sh starts local ones)"
fi

if cargo nextest --version >/dev/null 2>&1; then
  ignored=()
  [ $services = yes ] && ignored=(--run-ignored all)
  exec cargo nextest run --no-fail-fast --features fault-injection "${ignored[@]}" -E 'not test(/::time_/)' "$@"
else
  ignored=()
  [ $services = yes ] && ignored=(--include-ignored)
  exec cargo test --no-fail-fast --features fault-injection "$@" -- "${ignored[@]}" --skip ::time_
fi
