#!/usr/bin/env bash
# Headless Chromium (Debian's package) for the test that screenshots the proposal email.
# CI runs as root; elsewhere run it with sudo. Does nothing when /usr/bin/chromium exists.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
