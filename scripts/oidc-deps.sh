#!/usr/bin/env bash
# The OpenID Connect tests' relying parties from npm (tests/oidc, versions pinned by its
# package-lock.json): openid-client (tests/it/oidc_provider.rs) and oidc-client-ts (the
# browser suite's single-page app), installed into tests/oidc/node_modules when missing.
# A no-op once installed; without Node.js it says so and the tests report SKIPPED (make ci
# fails instead).
set -euo pipefail
cd "$(dirname "$0")/../tests/oidc"
if [ -d node_modules/openid-client ] && [ -d node_modules/oidc-client-ts ] && [ -d node_modules/oidc-provider ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "OIDC tests: npm not found; install Node.js 20 to run them" >&2
  exit 0
fi
npm ci --no-audit --no-fund --silent
