#!/usr/bin/env bash
# What the browser suite needs on the machine, from Debian's packages: Chromium (Playwright
# cannot download its own browser here), and Apache httpd with mod_auth_openidc (the
# relying party and resource server of tests/browser/test_apache.py). Installs what is
# missing with apt-get; a no-op otherwise. The Python side (Playwright, pytest, aiosmtpd,
# Authlib) lives in .tools/browser and is installed by scripts/browser-tests.sh;
# oidc-client-ts by scripts/oidc-deps.sh.
set -euo pipefail
chromium=${AUTH_TEST_CHROMIUM:-/usr/bin/chromium}
missing=()
[ -x "$chromium" ] || missing+=(chromium)
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
[ -f /usr/lib/apache2/modules/mod_auth_openidc.so ] || missing+=(libapache2-mod-auth-openidc)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install ${missing[*]} (Debian: apt-get install ${missing[*]}) for the browser tests" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts the packaged Apache where it can; the tests run their own.
if [[ " ${missing[*]} " == *" apache2 "* ]] && command -v apache2ctl >/dev/null; then
  $sudo apache2ctl stop >/dev/null 2>&1 || true
fi
