#!/usr/bin/env bash
# Create (or reuse) ./.venv with everything leapp_ros needs: the CPU build of torch, the package with its
# test/dds/sim/export extras and the ROS 2 Jazzy Python wheels (rclpy, rmw_fastrtps_cpp, the message packages:
# the `ros` extra; cp311 on Linux only, LEAPP_ROS_EXTRAS=test leaves them out). Idempotent: a second run only
# re-checks the install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
EXTRAS=${LEAPP_ROS_EXTRAS:-test,ros}
TORCH_SPEC=${LEAPP_ROS_TORCH_SPEC:-torch==2.13.0}  # pin the CPU build; an unpinned torch pulls CUDA wheels
started=$SECONDS
say() { echo "setup_env: $* ($((SECONDS - started)) s)" >&2; }
if [ ! -x .venv/bin/python ]; then
  say "creating ./.venv with $("$PYTHON" --version 2>&1); the first set-up installs about 1.7 GB: about 1 min from" \
      "a warm pip cache, 5-10 min when everything is downloaded (later runs only re-check it)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.leapp_ros_installed
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  say "1/3 PyTorch, CPU build ($TORCH_SPEC: about 200 MB to download, 750 MB installed, 1-3 min)"
  .venv/bin/python -m pip install -q --disable-pip-version-check "$TORCH_SPEC" 2>&1 | grep -v "is ignored" || true
  say "2/3 leapp_ros with its $EXTRAS extras (ONNX Runtime, Cyclone DDS, rosbags, MuJoCo, leapp, RL libraries," \
      "the ROS 2 Jazzy rclpy wheels: about 950 MB installed, 2-5 min)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]" 2>&1 | grep -v "is ignored" || true
  say "3/3 rl-games and torchrl without their dependency pins (a few MB)"
  # their declared pins conflict with rsl-rl-lib's (see setup.py); they run fine without them
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps rl-games==1.6.5 torchrl==0.14.1 \
    2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import torch, leapp_ros, onnxruntime, cyclonedds, rosbags, mujoco, leapp" \
    || { echo "setup_env: the environment is incomplete (see pip output above)" >&2; exit 1; }
  if [[ ",$EXTRAS," == *",ros,"* ]]; then
    if .venv/bin/python -c "import sys; sys.exit(sys.version_info[:2] != (3, 11))"; then
      .venv/bin/python -c "import rclpy, rclpy.lifecycle, sensor_msgs.msg, lifecycle_msgs.srv, std_srvs.srv" \
        || { echo "setup_env: the ROS 2 wheels are installed but rclpy does not import" >&2; exit 1; }
    else
      echo "setup_env: the ROS 2 Jazzy wheels need CPython 3.11: no rclpy here, the rclpy tests will skip" >&2
    fi
  fi
  touch "$stamp"
  say "done: ./.venv holds $(du -sh .venv 2>/dev/null | cut -f1); 'source .venv/bin/activate' puts leapp-ros and" \
      "leapp-export on PATH"
fi
