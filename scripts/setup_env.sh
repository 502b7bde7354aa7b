#!/usr/bin/env bash
# Prepares a machine for htt_ros from nothing: Debian build tools (apt), a Python 3.11 venv and
# `pip install .[EXTRAS]`. Sourced by scripts/demo.sh and scripts/test.sh; leaves the venv active.
#   HTT_VENV    venv folder (default ~/.venvs/htt_ros). It must lie outside the checkout: CMake
#               refuses to export include folders inside the source tree.
#   HTT_EXTRAS  pip extras to install (default: none)
set -euo pipefail

repo=$(CDPATH= cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
venv=${HTT_VENV:-$HOME/.venvs/htt_ros}
extras=${HTT_EXTRAS:-}

step() { printf '\n==> %s\n' "$*"; }

missing=()
for tool in cmake g++ make ninja git; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  step "installing build tools with apt (missing: ${missing[*]})"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    cmake g++ make ninja-build git python3-venv python3-dev >/dev/null
fi

python=${HTT_PYTHON:-python3}
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' || {
  echo "htt_ros needs Python 3.11 (the ROS 2 Kilted wheels are built for cp311)" >&2; exit 1; }
case "$venv/" in "$repo"/*)
  echo "HTT_VENV=$venv lies inside the checkout; choose a folder outside it" >&2; exit 1;;
esac

if [ ! -x "$venv/bin/python" ]; then
  step "creating the venv $venv"
  "$python" -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install -q --upgrade "pip>=24"
step "pip install .${extras:+[$extras]} (builds the messages with CMake; about a minute)"
start=$SECONDS
python -m pip install -q --progress-bar off "$repo${extras:+[$extras]}" 2>&1 \
  | grep -v "^WARNING: Location" || true
python -c "import htt_ros.msg" || { echo "pip install failed: see the output above" >&2; exit 1; }
echo "installed in $((SECONDS - start)) s into $venv"
# ament_index (ros2 run, launch, get_package_share_directory) needs the prefix on this path.
export AMENT_PREFIX_PATH="$venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
