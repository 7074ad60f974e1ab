#!/usr/bin/env bash
# Download the Kafka broker jars listed in pom.xml from Maven Central into
# ${KAFKA_HOME_DIR:-<repo>/.cache/kafka}/libs. Idempotent: re-downloads only when
# pom.xml changed. Prints the libs directory (one line) on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${KAFKA_HOME_DIR:-$(cd "$here/../.." && pwd)/.cache/kafka}"
libs="$home/libs"
stamp="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"

if [[ "$(cat "$libs/.pom.sha256" 2>/dev/null)" != "$stamp" ]]; then
  mkdir -p "$home"
  tmp="$(mktemp -d "$home/libs.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch.sh: downloading Kafka jars from Maven Central into $libs ..." >&2
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >&2
  echo "$stamp" >"$tmp/.pom.sha256"
  rm -rf "$libs"
  mv -T "$tmp" "$libs"
fi
echo "$libs"
