#!/usr/bin/env bash
# The browser suite (tests/browser/): Playwright for Python driving Debian's Chromium
# against the real binary, with SMTP and a fake Twilio on loopback.
#
# Real relying parties take part: Apache httpd + mod_auth_openidc, Authlib, and
# oidc-client-ts in a page of its own origin.
#
# Without Chromium it says SKIPPED and succeeds, unless AUTH_TEST_REQUIRE_BROWSER=1 (as
# `make ci` sets it; then a missing Apache fails too); `make browser/deps` installs
# Chromium and Apache. Installs Playwright, pytest, aiosmtpd, Authlib and requests from
# PyPI into .tools/browser on first use, and oidc-client-ts from npm (scripts/oidc-deps.sh). AUTH_TEST_SCREENSHOTS names the
# folder the pages' screenshots go to (default target/screenshots; `make screenshots`
# renews docs/screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
chromium=${AUTH_TEST_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  if [ -n "${AUTH_TEST_REQUIRE_BROWSER:-}" ]; then
    echo "browser tests: no Chromium at $chromium; run make browser/deps" >&2
    exit 1
  fi
  echo "browser tests SKIPPED: no Chromium at $chromium (make browser/deps installs it)"
  exit 0
fi
venv=.tools/browser
if [ ! -x "$venv/bin/pytest" ] || ! "$venv/bin/python" -c 'import playwright, aiosmtpd, authlib, requests' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'playwright>=1.45,<2' 'pytest>=8,<10' 'aiosmtpd>=1.4,<2' \
    'authlib>=1.3,<2' 'requests>=2.31,<3'
fi
scripts/oidc-deps.sh
# The binary the Rust tests built (same features), so this build is usually a no-op.
cargo build --quiet --features fault-injection --bin authd
started=$(date +%s)
AUTHD_BINARY=target/debug/authd "$venv/bin/pytest" -q -p no:cacheprovider tests/browser "$@"
echo "browser suite: $(( $(date +%s) - started )) s"
