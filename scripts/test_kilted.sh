#!/usr/bin/env bash
# Kilted smoke test: the ROS 2 Kilted wheels (rclpy 9.1, Fast DDS 3) in their own environment (.venv-kilted:
# the `ros-kilted`, `dds` and `sim` extras, no torch, about 600 MB, ~1.5 min the first time), then the rclpy node tests
# and one end-to-end bundle run (extra arguments go to pytest); about 30 s. The fake robot of the tests is Cyclone DDS, so Fast DDS 3 runs with type
# propagation disabled (leapp_ros/transport/fastdds_interop.xml), as docs/transport.md tells Kilted users.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv-kilted
if [ ! -x $VENV/bin/python ]; then
  "$PYTHON" -m venv $VENV
fi
stamp=$VENV/.leapp_ros_installed
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  $VENV/bin/python -m pip install -q --disable-pip-version-check -e ".[ros-kilted,dds,sim]" "pytest>=8" \
    "pytest-timeout>=2.3" 2>&1 | grep -v "is ignored" || true
  $VENV/bin/python -c "import rclpy, rclpy.lifecycle, sensor_msgs.msg, cyclonedds, onnxruntime" \
    || { echo "test_kilted: the Kilted environment is incomplete (see pip output above)" >&2; exit 1; }
  touch "$stamp"
fi
export FASTDDS_DEFAULT_PROFILES_FILE=$PWD/leapp_ros/transport/fastdds_interop.xml
LEAPP_ROS_PYTHON=$VENV/bin/python exec bash scripts/in_netns.sh $VENV/bin/python -m pytest -q -p no:cacheprovider \
  test/test_node_rclpy.py "test/test_node_e2e.py::test_fixture_bundle_targets_equal_engine_outputs[rclpy-anymal_like_flat]" \
  "$@"
