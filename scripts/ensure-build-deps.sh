#!/usr/bin/env bash
# The system packages the build needs beyond Rust: OpenSSL's headers and pkg-config, for
# webauthn-rs (passkeys). Installs them with apt-get when they are missing; a no-op otherwise.
set -euo pipefail
missing=()
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev pkg-config)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install OpenSSL's development files and pkg-config (needed by webauthn-rs)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}"
