#!/usr/bin/env bash
# What the browser suite needs on the machine: Debian's Chromium (Playwright cannot
# download its own browser here). Installs it with apt-get when it is missing; a no-op
# otherwise. The Python side (Playwright, pytest, aiosmtpd) lives in .tools/browser and is
# installed by scripts/browser-tests.sh.
set -euo pipefail
chromium=${AUTH_TEST_CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install Chromium (Debian: apt-get install chromium) for the browser tests" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
