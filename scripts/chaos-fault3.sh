#!/usr/bin/env bash
# The chaos run can fail: re-introduce fault 3 of issue 30 (a read-only, admin-shutdown or
# crash-shutdown PostgreSQL error is not temporary, so a valid event seen during a failover is
# dead-lettered) in a scratch worktree of HEAD, and run the read-only chaos pass on it. The run
# must print dead_lettered_valid>0 (and lost>0) and exit 1; this script exits 0 only then.
#   bash scripts/chaos-fault3.sh [extra benchmarks.chaos arguments]
# Uses this checkout's virtualenv and .cache (Kafka jars, toxiproxy); the run directory is in
# .cache/chaos/. The scratch worktree is removed afterwards.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d /tmp/chaos-fault3.XXXXXX)"
chmod 755 "$scratch"  # PostgreSQL runs as its own user (devenv/processes.py) and must reach .cache
git -C "$root" worktree add --quiet --detach "$scratch" HEAD
trap 'git -C "$root" worktree remove --force "$scratch"' EXIT
errors="$scratch/shared/errors.py"
sed -i -E '/^    asyncpg\.(ReadOnlySQLTransactionError|AdminShutdownError|CrashShutdownError),$/d' "$errors"
if grep -qE 'ReadOnlySQLTransactionError|AdminShutdownError|CrashShutdownError' "$errors"; then
  echo "chaos-fault3: could not take the errors off the temporary list in $errors" >&2
  exit 2
fi
ln -s "$root/.cache" "$scratch/.cache"
cd "$scratch"
set +e
PYTHONPATH="$scratch" "$root/.venv/bin/python" -m benchmarks.chaos --events 600 --rate 5 \
  --kills 0 --broker-kills 0 --db-kills 0 --readonly-s 5 --net-faults 0 --stall-s 60 "$@" \
  | tee "$scratch/out.txt"
code=${PIPESTATUS[0]}
set -e
last="$(tail -n 1 "$scratch/out.txt")"
if [[ $code -eq 1 && $last =~ dead_lettered_valid=[1-9] ]]; then
  echo "chaos-fault3: the run failed as it must with fault 3 re-introduced"
  exit 0
fi
echo "chaos-fault3: the run did not show fault 3 (exit $code): $last" >&2
exit 1
