#!/usr/bin/env bash
# Run a command where DDS discovery cannot leave the machine: in a private network namespace with only loopback
# up (unshare -n as root, or unshare -rn in a user namespace) and a fresh ROS_DOMAIN_ID. Where no namespace can be
# made: loopback-only discovery instead (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, the loopback Fast DDS profile
# for rclpy unless a profile is already set; the DDS tests pin Cyclone DDS to 127.0.0.1 themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
export ROS_DOMAIN_ID=$(( (RANDOM % 100) + 1 ))
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
PY=${LEAPP_ROS_PYTHON:-.venv/bin/python}
# Bring lo up inside the namespace (`ip`, or the SIOCSIFFLAGS ioctl where iproute2 is missing).
LO_UP="ip link set lo up 2>/dev/null || $PY -c '
import fcntl, socket, struct
s = socket.socket(); name = struct.pack(\"16sH\", b\"lo\", 0)
flags = struct.unpack(\"16sH\", fcntl.ioctl(s, 0x8913, name))[1]
fcntl.ioctl(s, 0x8914, struct.pack(\"16sH\", b\"lo\", flags | 1))'"
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  exec unshare -n bash -c "$LO_UP && exec \"\$@\"" in_netns.sh "$@"
elif unshare -rn true 2>/dev/null; then
  exec unshare -rn bash -c "$LO_UP && exec \"\$@\"" in_netns.sh "$@"
fi
if [ -z "${FASTDDS_DEFAULT_PROFILES_FILE:-}${FASTRTPS_DEFAULT_PROFILES_FILE:-}" ]; then
  export FASTRTPS_DEFAULT_PROFILES_FILE=$PWD/leapp_ros/transport/fastdds_loopback.xml
fi
echo "in_netns.sh: no private network namespace (unshare unavailable); loopback-only discovery instead" \
     "(ROS_DOMAIN_ID=$ROS_DOMAIN_ID)"
exec "$@"
