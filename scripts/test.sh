#!/usr/bin/env bash
# Set up the environment if needed, then run the whole test suite (extra arguments go to pytest).
# DDS discovery never leaves the machine: the tests run in a private network namespace with only loopback up
# (unshare -n as root, or unshare -rn in a user namespace) and a fresh ROS_DOMAIN_ID. Where no namespace can be
# made, they fall back to loopback-only discovery (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, the loopback
# Fast DDS profile for rclpy; the DDS tests pin Cyclone to 127.0.0.1 themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export ROS_DOMAIN_ID=$(( (RANDOM % 100) + 1 ))
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
PYTEST=(.venv/bin/python -m pytest -q -p no:cacheprovider "$@")
# Bring lo up inside the namespace (`ip`, or the SIOCSIFFLAGS ioctl where iproute2 is missing).
LO_UP='ip link set lo up 2>/dev/null || .venv/bin/python -c "
import fcntl, socket, struct
s = socket.socket(); name = struct.pack(\"16sH\", b\"lo\", 0)
flags = struct.unpack(\"16sH\", fcntl.ioctl(s, 0x8913, name))[1]
fcntl.ioctl(s, 0x8914, struct.pack(\"16sH\", b\"lo\", flags | 1))"'
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  exec unshare -n bash -c "$LO_UP && exec \"\$@\"" test.sh "${PYTEST[@]}"
elif unshare -rn true 2>/dev/null; then
  exec unshare -rn bash -c "$LO_UP && exec \"\$@\"" test.sh "${PYTEST[@]}"
fi
export FASTRTPS_DEFAULT_PROFILES_FILE=$PWD/leapp_ros/transport/fastdds_loopback.xml
echo "test.sh: no private network namespace (unshare unavailable); loopback-only discovery instead (ROS_DOMAIN_ID=$ROS_DOMAIN_ID)"
exec "${PYTEST[@]}"
