#!/usr/bin/env bash
# Installs htt_ros (first run only takes long) and runs the demo: htt_node on a synthetic
# egocentric camera. Arguments go to htt-demo (e.g. --seconds 30, --layout fpha).
set -euo pipefail
repo=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
HTT_EXTRAS=${HTT_EXTRAS:-onnx,torch} source "$repo/scripts/setup_env.sh"
cd "$(mktemp -d)"  # run the installed package, not the checkout
step "htt-demo $*"
exec htt-demo "$@"
