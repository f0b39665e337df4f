"""``leapp-export isaaclab``: run Isaac Lab's own exporter, then add leapp_export's bundle check report."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from leapp_export.errors import ExportError


def _bundle_from_args(args: Sequence[str]) -> Path | None:
    """The bundle directory Isaac Lab will write, when --export_save_path makes it predictable."""
    values = {}
    for i, arg in enumerate(args):
        for flag in ("--export_save_path", "--export_task_name", "--task"):
            if arg == flag and i + 1 < len(args):
                values[flag] = args[i + 1]
            elif arg.startswith(flag + "="):
                values[flag] = arg.split("=", 1)[1]
    if "--export_save_path" not in values or not (values.get("--export_task_name") or values.get("--task")):
        return None
    graph = values.get("--export_task_name") or values["--task"].split(":")[-1]
    return Path(values["--export_save_path"]) / graph


def run_isaaclab_export(isaaclab_args: Sequence[str], bundle: str | None) -> int:
    exe = shutil.which("isaaclab")
    if exe is None:
        raise ExportError("the 'isaaclab' command is not on PATH: Isaac Lab 3.0 is not installed in this "
                          "environment (it is an optional dependency); use 'leapp-export rsl-rl' to export offline")
    args = [a for a in isaaclab_args if a != "--"]
    target = Path(bundle) if bundle else _bundle_from_args(args)
    code = subprocess.call([exe, "leapp", "export", *args])
    if code != 0:
        raise ExportError(f"'isaaclab leapp export' failed with exit code {code}")
    if target is None:
        print("leapp-export: pass --bundle (or --export_save_path) to validate the bundle Isaac Lab wrote")
        return 0
    from leapp_export.validate import cross_check
    from leapp_ros.bundle.loader import find_bundle_yaml

    yaml_path = find_bundle_yaml(target)
    checked = cross_check(yaml_path)
    report = {"tool": "leapp-export isaaclab", "isaaclab_args": args, "cross_check": checked}
    out = yaml_path.parent / f"{yaml_path.stem}_export_report.json"
    out.write_text(json.dumps(report, indent=1))
    print(out)
    return 0 if checked["passed"] else 1
