"""``leapp-export`` for skrl, Stable-Baselines3, rl_games and TorchRL: locate the run, load the actor, export."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from leapp_export.offline import ExportOptions, check_options
from leapp_export.run_dir import RunLayout

Progress = Callable[[str], None]

SKRL_LAYOUT = RunLayout("skrl", r".*\.pt", subdir="checkpoints")  # agent_<step>.pt, best_agent.pt; Isaac Lab order
RL_GAMES_LAYOUT = RunLayout("rl_games", r"(?!last_).*\.pth", subdir="nn")  # <config.name>.pth, not last_*.pth
SB3_LAYOUT = RunLayout("sb3", r"model_.*\.zip", preferred="model.zip", agent_required=False)
TORCHRL_LAYOUT = RunLayout("torchrl", r".*\.pt", agent_required=False)


@dataclass
class SkrlExportOptions(ExportOptions):
    load_checkpoint: str | None = None


@dataclass
class Sb3ExportOptions(ExportOptions):
    load_checkpoint: str | None = None


@dataclass
class RlGamesExportOptions(ExportOptions):
    load_checkpoint: str | None = None
    use_last_checkpoint: bool = False


@dataclass
class TorchRlExportOptions(ExportOptions):
    actor_factory: str | None = None
    action_key: str = "action"
    obs_groups: list[str] | None = None


@contextlib.contextmanager
def _no_distribution_validation() -> Iterator[None]:
    """As Isaac Lab's export_sb3: torch.distributions argument checks turn tensors into Python bools while tracing."""
    import torch

    previous = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        torch.distributions.Distribution.set_default_validate_args(previous)


def export_skrl(options: SkrlExportOptions, progress: Progress = lambda _: None) -> Path:
    """skrl agent checkpoint (``<run>/checkpoints/*.pt``); bundle defaults to the run directory."""
    from leapp_export.offline import export_offline
    from leapp_export.run_dir import locate_library_run
    from leapp_export.skrl_policy import skrl_plan

    check_options(options)
    run = locate_library_run(SKRL_LAYOUT, options.checkpoint, options.load_checkpoint, options.env_yaml,
                             options.agent_yaml)
    return export_offline(options, "leapp-export skrl", run,
                          lambda cfg: skrl_plan(run.checkpoint, cfg, str(run.agent_yaml)), run.run_dir, progress)


def export_sb3(options: Sb3ExportOptions, progress: Progress = lambda _: None) -> Path:
    """SB3 PPO ``model.zip`` (+ ``model_vecnormalize.pkl``); bundle defaults to the checkpoint's directory."""
    from leapp_export.offline import export_offline
    from leapp_export.run_dir import locate_library_run
    from leapp_export.sb3_policy import sb3_plan

    check_options(options)
    run = locate_library_run(SB3_LAYOUT, options.checkpoint, options.load_checkpoint, options.env_yaml,
                             options.agent_yaml)
    with _no_distribution_validation():
        return export_offline(options, "leapp-export sb3", run, lambda cfg: sb3_plan(run.checkpoint, cfg),
                              run.checkpoint.parent, progress)


def export_rl_games(options: RlGamesExportOptions, progress: Progress = lambda _: None) -> Path:
    """rl_games ``<run>/nn/<name>.pth``; bundle defaults to the run directory."""
    from leapp_export.offline import export_offline
    from leapp_export.rl_games_policy import rl_games_plan
    from leapp_export.run_dir import locate_library_run

    check_options(options)
    pattern = options.load_checkpoint or (".*" if options.use_last_checkpoint else None)
    run = locate_library_run(RL_GAMES_LAYOUT, options.checkpoint, pattern, options.env_yaml, options.agent_yaml)
    return export_offline(options, "leapp-export rl-games", run,
                          lambda cfg: rl_games_plan(run.checkpoint, cfg, str(run.agent_yaml)), run.run_dir, progress)


def export_torchrl(options: TorchRlExportOptions, progress: Progress = lambda _: None) -> Path:
    """TorchRL actor file (whole module or state dict + factory); bundle defaults to the checkpoint's directory."""
    from leapp_export.offline import export_offline
    from leapp_export.run_dir import locate_library_run
    from leapp_export.torchrl_policy import torchrl_plan

    check_options(options)
    run = locate_library_run(TORCHRL_LAYOUT, options.checkpoint, None, options.env_yaml, options.agent_yaml)
    return export_offline(
        options, "leapp-export torchrl", run,
        lambda cfg: torchrl_plan(run.checkpoint, options.actor_factory, options.action_key, options.obs_groups),
        run.checkpoint.parent, progress)
