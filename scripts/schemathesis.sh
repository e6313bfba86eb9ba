#!/usr/bin/env bash
# Schemathesis against the server's own /openapi.json: every operation with generated valid
# and invalid input (SCHEMATHESIS_EXAMPLES per operation, default 50), checking that no
# answer is a 5xx and that every answer matches the documented schema.
#
# Installs schemathesis from PyPI into .tools/schemathesis on first use; starts the debug
# build on the embedded default in a scratch folder, with an administrator whose token
# authenticates the generated requests. Routes that would end that token's session
# (logout, logout/all, refresh by header) are left out so later operations stay
# authenticated; tests/it/sessions.rs covers them.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${SCHEMATHESIS_EXAMPLES:-50}
venv=.tools/schemathesis
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi
cargo build --quiet
binary=target/debug/authd

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin_password="schemathesis admin passphrase 7"
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
(
  cd "$work"
  AUTH_LISTEN=127.0.0.1:$port AUTH_LOG_FORMAT=json RUST_LOG=error \
    AUTH_ADMIN_EMAIL=admin@example.com AUTH_ADMIN_PASSWORD="$admin_password" \
    AUTH_ARGON2_MEMORY_KIB=1024 AUTH_ARGON2_ITERATIONS=1 \
    AUTH_THROTTLE_FREE_FAILURES=1000000 AUTH_THROTTLE_IP_FAILURES=1000000 AUTH_THROTTLE_ACCOUNT_FAILURES=1000000 \
    AUTH_THROTTLE_IP_REQUESTS=1000000 AUTH_THROTTLE_ACCOUNT_REQUESTS=1000000 \
    exec "$OLDPWD/$binary" serve >"$work/server.log" 2>&1
) &
server=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do
  curl -fs "$base/health" >/dev/null 2>&1 && break
  sleep 0.1
done
token=$(curl -fs "$base/login" -H 'content-type: application/json' \
  -d "{\"email\":\"admin@example.com\",\"password\":\"$admin_password\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

"$venv/bin/st" run "$base/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$examples" --seed "${SCHEMATHESIS_SEED:-20261127}" \
  --exclude-path /logout --exclude-path /logout/all --exclude-path /login/refresh \
  --header "Authorization: Bearer $token" \
  --request-timeout 20 --no-color --warnings off
