#!/usr/bin/env bash
# The main job: set up the environment if needed, then run the sim-to-sim demo (MuJoCo robot + deploy node).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/leapp-ros demo "$@"
