#!/usr/bin/env bash
# Installs htt_ros with its development extras and runs the linters and the whole test suite,
# the colcon build included. Extra arguments go to pytest (e.g. -k dds, -m "not slow").
set -euo pipefail
repo=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
HTT_EXTRAS=dev source "$repo/scripts/setup_env.sh"
cd "$repo"

step "ruff"
ruff check .
ruff format --check .

step "pytest"
set +e
python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
