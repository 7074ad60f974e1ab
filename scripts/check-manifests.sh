#!/usr/bin/env bash
# Render every kustomization under deploy/k8s and validate the result offline: Kubernetes kinds
# against the schemas in the kubernetes-validate wheel, KEDA kinds against the KEDA CRD schemas in
# deploy/schemas/keda, plus Mentorlink's own rules (deploy/tools/validate_manifests.py).
# Exit status 1 on any invalid manifest.
set -euo pipefail
cd "$(dirname "$0")/.."

KUSTOMIZE_VERSION=v5.5.0  # built from the Go module proxy when no kustomize is at hand
tools="$PWD/.cache/tools"

kustomize_build() {
  if [[ -n "${KUSTOMIZE:-}" ]]; then "$KUSTOMIZE" build "$1"
  elif [[ -x "$tools/kustomize" ]]; then "$tools/kustomize" build "$1"
  elif command -v kustomize >/dev/null 2>&1; then kustomize build "$1"
  elif command -v go >/dev/null 2>&1; then
    echo "building kustomize $KUSTOMIZE_VERSION into $tools (once)" >&2
    GOBIN="$tools" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2
    "$tools/kustomize" build "$1"
  elif command -v kubectl >/dev/null 2>&1; then kubectl kustomize "$1"
  else
    echo "no kustomize, go or kubectl to render $1" >&2
    return 1
  fi
}

rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
status=0
while IFS= read -r kustomization; do
  dir=$(dirname "$kustomization")
  out="$rendered/$(echo "$dir" | tr / _).yaml"
  kustomize_build "$dir" >"$out"
  printf '%s: ' "$dir"
  uv run --frozen python deploy/tools/validate_manifests.py "$out" || status=1
done < <(find deploy/k8s -name kustomization.yaml | sort)
exit $status
