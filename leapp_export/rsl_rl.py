"""Offline RSL-RL export: Isaac Lab run directory -> LEAPP bundle with the same contract as Isaac Lab's exporter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from leapp_export.offline import ExportOptions, check_options, node_name_for  # noqa: F401 - node_name_for re-exported
from leapp_export.policy import PolicyPlan


@dataclass
class RslRlExportOptions(ExportOptions):
    """Every knob of ``leapp-export rsl-rl``: the common flags plus Isaac Lab's rsl_rl checkpoint discovery."""

    load_run: str | None = None
    load_checkpoint: str | None = None
    log_root: str | None = None


def export_rsl_rl(options: RslRlExportOptions, progress: Callable[[str], None] = lambda _: None):
    """Export one RSL-RL checkpoint; returns the bundle directory (YAML, model, PNG, log, report)."""
    from leapp_export.offline import export_offline
    from leapp_export.rsl_rl_policy import actor_groups, build_actor
    from leapp_export.run_dir import locate_run

    check_options(options)
    run = locate_run(options.checkpoint, options.load_run, options.load_checkpoint, options.log_root,
                     options.env_yaml, options.agent_yaml)

    def plan(agent_cfg: dict) -> PolicyPlan:
        clip = agent_cfg.get("clip_actions")  # RslRlVecEnvWrapper(clip_actions=...)
        return PolicyPlan(
            groups=actor_groups(agent_cfg), env_clip_actions=None if clip is None else float(clip),
            build=lambda dims, num_actions: build_actor(run.checkpoint, agent_cfg, dims, num_actions,
                                                        str(run.agent_yaml)))

    return export_offline(options, "leapp-export rsl-rl", run, plan, run.run_dir, progress)
