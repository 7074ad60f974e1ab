#!/usr/bin/env bash
# Build Shopify's toxiproxy (a TCP proxy that injects latency, resets and black holes) from its
# Go module into .cache/toxiproxy/bin, once. Used by `make chaos` (benchmarks/chaos_net.py).
#   install-toxiproxy.sh        prints the server binary's path on its last stdout line
# Env: TOXIPROXY_VERSION (default below).
set -euo pipefail
version="${TOXIPROXY_VERSION:-v2.12.0}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="$(cd "$here/.." && pwd)/.cache/toxiproxy/$version/bin"
server="$bin_dir/toxiproxy-server"
if [[ ! -x "$server" ]]; then
  command -v go >/dev/null || { echo "install-toxiproxy.sh: go is not installed" >&2; exit 1; }
  mkdir -p "$bin_dir"
  # `go install pkg@version` builds in module mode with the module's own go.sum.
  GOBIN="$bin_dir" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$version" >&2
  mv "$bin_dir/server" "$server"
fi
echo "$server"
