#!/usr/bin/env bash
# The main job on the built-in default: installs htt_ros with its training extras (the first run
# takes a few minutes), then runs the demo from this checkout: synthetic data, a few minutes of
# CPU training, export, a bag of held-out sequences, htt_node live on it, accuracy and latency.
# A second run reuses what the first built. Arguments go to `python -m training.demo`.
set -euo pipefail
repo=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
HTT_EXTRAS=${HTT_EXTRAS:-train} source "$repo/scripts/setup_env.sh"
cd "$repo"
step "python -m training.demo $*"
exec python -m training.demo "$@"
