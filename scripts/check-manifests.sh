#!/usr/bin/env bash
# Render every kustomization under deploy/k8s and validate the result offline: Kubernetes kinds
# against the schemas in the kubernetes-validate wheel, KEDA kinds against the KEDA CRD schemas in
# deploy/schemas/keda, plus Mentorlink's own rules (deploy/tools/validate_manifests.py).
# Then load docker-compose.yml with compose-go (the loader of `docker compose`, built from
# deploy/tools/composecheck) and check that it refuses to run without LINK_SIGNING_KEYS.
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

composecheck() {
  if [[ ! -x "$tools/composecheck" ]]; then
    command -v go >/dev/null 2>&1 || { echo "no go to build deploy/tools/composecheck" >&2; return 1; }
    echo "building composecheck into $tools (once)" >&2
    (cd deploy/tools/composecheck && go build -o "$tools/composecheck" .) >&2
  fi
  "$tools/composecheck" "$@"
}

printf 'docker-compose.yml: '
export ERASURE_HASH_KEYS=check-only  # required by every service; the link key's check follows
if out=$(unset LINK_SIGNING_KEYS; composecheck docker-compose.yml 2>&1); then
  echo "runs without LINK_SIGNING_KEYS (it must refuse): $out"; status=1
elif [[ "$out" != *"required variable LINK_SIGNING_KEYS is missing"* ]]; then
  echo "invalid: $out"; status=1
else
  out=$(LINK_SIGNING_KEYS=check-only composecheck docker-compose.yml 2>&1) || true
  if [[ "$out" == "valid; LINK_SIGNING_KEYS set for: notifications,profile" ]]; then echo "$out"
  else echo "invalid: $out"; status=1; fi
fi
printf 'docker-compose.yml without ERASURE_HASH_KEYS: '
if out=$(export LINK_SIGNING_KEYS=check-only; unset ERASURE_HASH_KEYS; composecheck docker-compose.yml 2>&1); then
  echo "runs without it (it must refuse): $out"; status=1
elif [[ "$out" == *"required variable ERASURE_HASH_KEYS is missing"* ]]; then echo "refused"
else echo "invalid: $out"; status=1; fi
exit $status
