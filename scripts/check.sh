#!/usr/bin/env bash
# Static checks: ruff (lint and import order, ruff.toml) and mypy (setup.cfg: strict on the ROS-free core, a
# baseline elsewhere). Both come with the package's `test` extra (scripts/setup_env.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
echo "check: ruff $("$PY" -m ruff --version | cut -d' ' -f2)" >&2
"$PY" -m ruff check .
echo "check: mypy $("$PY" -m mypy --version | cut -d' ' -f2)" >&2
"$PY" -m mypy
