#!/usr/bin/env bash
# Create (or reuse) ./.venv with everything leapp_ros needs without ROS: the CPU build of torch, the package with
# its test/dds/sim/export extras. Idempotent: a second run only re-checks the install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${LEAPP_ROS_TORCH_SPEC:-torch==2.13.0}  # pin the CPU build; an unpinned torch pulls CUDA wheels
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.leapp_ros_installed
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check "$TORCH_SPEC" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 | grep -v "is ignored" || true
  # their declared pins conflict with rsl-rl-lib's (see setup.py); they run fine without them
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps rl-games==1.6.5 torchrl==0.14.1 \
    2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import torch, leapp_ros, onnxruntime, cyclonedds, rosbags, mujoco, leapp" \
    || { echo "setup_env: the environment is incomplete (see pip output above)" >&2; exit 1; }
  touch "$stamp"
fi
