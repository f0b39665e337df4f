#!/usr/bin/env bash
# Set up the environment if needed, then run the whole test suite (extra arguments go to pytest) where DDS
# discovery cannot leave the machine (scripts/in_netns.sh: a private network namespace, a fresh ROS_DOMAIN_ID).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec bash scripts/in_netns.sh .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
