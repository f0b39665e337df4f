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
    agent_yaml: Path | None


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


@dataclass(frozen=True)
class RunLayout:
    """Where a library's Isaac Lab training script puts checkpoints inside a run directory.

    rsl_rl: ``<run>/model_<it>.pt``; skrl: ``<run>/checkpoints/{agent_<step>,best_agent}.pt``;
    rl_games: ``<run>/nn/<config.name>.pth`` (+ ``last_*.pth``); sb3: ``<run>/model.zip`` (+ ``model_<n>_steps.zip``).
    """

    library: str
    checkpoint_pattern: str  # default regex of checkpoint file names (latest in Isaac Lab's ordering wins)
    subdir: str | None = None  # folder of the run dir holding the checkpoints
    preferred: str | None = None  # file taken when present (sb3's final model.zip)
    agent_required: bool = True


def _latest_in_run(run_dir: Path, layout: RunLayout, pattern: str) -> Path | None:
    folder = run_dir / layout.subdir if layout.subdir and (run_dir / layout.subdir).is_dir() else run_dir
    if layout.preferred and pattern == layout.checkpoint_pattern and (folder / layout.preferred).is_file():
        return folder / layout.preferred
    return _latest_checkpoint(folder, pattern)


def locate_library_run(layout: RunLayout, checkpoint: str | None, load_checkpoint: str | None = None,
                       env_yaml: str | None = None, agent_yaml: str | None = None) -> RunFiles:
    """Checkpoint file (given, or the latest in a run dir / the latest run of an experiment dir) + params files."""
    pattern = load_checkpoint or layout.checkpoint_pattern
    if checkpoint is None:
        raise ExportError(f"no checkpoint: pass --checkpoint FILE or a {layout.library} run directory")
    path = Path(checkpoint).expanduser()
    ckpt: Path | None
    if path.is_file():
        ckpt = path
    elif path.is_dir():
        ckpt = _latest_in_run(path, layout, pattern)
        if ckpt is None:  # an experiment directory: Isaac Lab takes the alphabetically last run
            runs = sorted(p for p in path.iterdir() if p.is_dir() and p.name not in ("params", layout.subdir))
            ckpt = _latest_in_run(runs[-1], layout, pattern) if runs else None
        if ckpt is None:
            where = f"{layout.subdir}/ of " if layout.subdir else ""
            raise ExportError(f"'{path}' holds no {layout.library} checkpoint matching '{pattern}' (looked in "
                              f"{where}the directory and of its last run directory)")
    else:
        raise ExportError(f"checkpoint '{path}' does not exist")
    assert ckpt is not None  # every branch above found one or raised
    run_dir = ckpt.parent.parent if layout.subdir and ckpt.parent.name == layout.subdir else ckpt.parent
    env_path = Path(env_yaml) if env_yaml else run_dir / "params" / "env.yaml"
    agent_path = Path(agent_yaml) if agent_yaml else run_dir / "params" / "agent.yaml"
    if not env_path.is_file():
        raise ExportError(f"env config '{env_path}' does not exist; the run directory of checkpoint '{ckpt}' should "
                          "hold it (Isaac Lab writes params/ at training start), or pass --env_yaml")
    agent_file: Path | None = agent_path
    if not agent_path.is_file():
        if layout.agent_required or agent_yaml:
            raise ExportError(f"agent config '{agent_path}' does not exist; the run directory of checkpoint '{ckpt}' "
                              "should hold it (Isaac Lab writes params/ at training start), or pass --agent_yaml")
        agent_file = None
    return RunFiles(ckpt, run_dir, env_path, agent_file)
