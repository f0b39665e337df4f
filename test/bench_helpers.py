"""Helpers for the bench tests: run `leapp-ros bench` / `bench-diff` as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TINY = ("--ticks", "60", "--warmup", "5")  # schema and plumbing, not figures


def leapp_ros(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leapp_ros.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def bench_json(bundle: Path, out: Path, *args: str) -> dict[str, Any]:
    """Run a tiny bench on `bundle` writing `out`; the parsed document."""
    result = leapp_ros("bench", str(bundle), *TINY, "--json", str(out), *args)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())
