#!/usr/bin/env bash
# Install kcat (Debian's package) when it is missing: the ingress walkthrough test publishes with it.
set -euo pipefail
if command -v kcat >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "kcat is missing; run: sudo apt-get install -y kcat" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends kcat >/dev/null || {
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends kcat >/dev/null
}
kcat -V | head -n 1
