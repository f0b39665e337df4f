"""Locate the checkpoint and params files of an Isaac Lab training run (Isaac Lab's discovery rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from leapp_export.errors import ExportError

DEFAULT_LOAD_RUN = ".*"
DEFAULT_LOAD_CHECKPOINT = "model_.*.pt"


@dataclass
class RunFiles:
    checkpoint: Path
    run_dir: Path
    env_yaml: Path
    agent_yaml: Path


def _latest_checkpoint(run_dir: Path, pattern: str) -> Path | None:
    files = [p.name for p in run_dir.iterdir() if p.is_file() and re.match(pattern, p.name)]
    if not files:
        return None
    files.sort(key=lambda name: f"{name:0>15}")  # Isaac Lab's get_checkpoint_path ordering (model_9 < model_10)
    return run_dir / files[-1]


def find_checkpoint(checkpoint: str | None, load_run: str | None, load_checkpoint: str | None,
                    log_root: str | None) -> Path:
    """A checkpoint file: the file given, the latest in a run dir, or the latest run of an experiment dir."""
    load_run = load_run or DEFAULT_LOAD_RUN
    load_checkpoint = load_checkpoint or DEFAULT_LOAD_CHECKPOINT
    root = checkpoint or log_root
    if root is None:
        raise ExportError("no checkpoint: pass --checkpoint FILE|RUN_DIR or --log_root EXPERIMENT_DIR")
    path = Path(root).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise ExportError(f"checkpoint '{path}' does not exist")
    found = _latest_checkpoint(path, load_checkpoint)
    if found is not None:
        return found
    runs = sorted(p for p in path.iterdir() if p.is_dir() and re.match(load_run, p.name))
    if not runs:
        raise ExportError(f"'{path}' holds no checkpoint matching --load_checkpoint '{load_checkpoint}' and no run "
                          f"directory matching --load_run '{load_run}'")
    found = _latest_checkpoint(runs[-1], load_checkpoint)
    if found is None:
        raise ExportError(f"run directory '{runs[-1]}' holds no checkpoint matching --load_checkpoint "
                          f"'{load_checkpoint}'")
    return found


def locate_run(checkpoint: str | None, load_run: str | None = None, load_checkpoint: str | None = None,
               log_root: str | None = None, env_yaml: str | None = None, agent_yaml: str | None = None) -> RunFiles:
    """Checkpoint plus the run's params/env.yaml and params/agent.yaml (explicit paths win)."""
    ckpt = find_checkpoint(checkpoint, load_run, load_checkpoint, log_root)
    run_dir = ckpt.parent
    env_path = Path(env_yaml) if env_yaml else run_dir / "params" / "env.yaml"
    agent_path = Path(agent_yaml) if agent_yaml else run_dir / "params" / "agent.yaml"
    for label, p, flag in (("env config", env_path, "--env_yaml"), ("agent config", agent_path, "--agent_yaml")):
        if not p.is_file():
            raise ExportError(f"{label} '{p}' does not exist; the run directory of checkpoint '{ckpt}' should hold "
                              f"it (Isaac Lab writes params/ at training start), or pass {flag}")
    return RunFiles(ckpt, run_dir, env_path, agent_path)
