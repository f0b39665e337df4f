"""The library-independent offline export: env.yaml -> traced env, any loaded actor -> bundle + report."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leapp_export.errors import CheckpointMismatch, ExportError
from leapp_export.policy import PolicyPlan
from leapp_export.run_dir import RunFiles


@dataclass
class ExportOptions:
    """The flags every ``leapp-export <library>`` shares; names follow Isaac Lab's export CLI where one exists."""

    task: str
    checkpoint: str | None = None
    env_yaml: str | None = None
    agent_yaml: str | None = None
    joint_names: str | Sequence[str] | None = None
    urdf: str | None = None
    gains: str = "cfg"
    export_task_name: str | None = None
    export_method: str = "onnx-dynamo"
    export_save_path: str | None = None
    validation_steps: int = 5
    disable_graph_visualization: bool = False
    seed: int = 0


def node_name_for(task: str) -> str:
    """Isaac Lab names the node after the gym id (text after the last ':'); '/' would break LEAPP keys."""
    name = task.split(":")[-1].strip()
    if not name or "/" in name:
        raise ExportError(f"--task '{task}' cannot name a LEAPP node (empty or contains '/')")
    return name


def check_options(options: ExportOptions) -> tuple[str, str]:
    """Validate the flags that need no file; returns (node name, graph name)."""
    from leapp_export.methods import EXPORT_METHODS

    if options.export_method not in EXPORT_METHODS:
        raise ExportError(f"--export_method '{options.export_method}' is not one of {', '.join(EXPORT_METHODS)}")
    if options.validation_steps < 0:
        raise ExportError(f"--validation_steps must be >= 0, got {options.validation_steps}")
    node = node_name_for(options.task)
    graph_name = options.export_task_name or node
    if "/" in graph_name or not graph_name.strip():
        raise ExportError(f"--export_task_name '{graph_name}' must be a plain name without '/'")
    return node, graph_name


def export_offline(options: ExportOptions, tool: str, run: RunFiles, make_plan: Callable[[dict], PolicyPlan],
                   default_save_path: Path, progress: Callable[[str], None] = lambda _: None) -> Path:
    """Rebuild the env from env.yaml, load the actor through ``make_plan(agent_cfg)``, capture, compile, replay."""
    import torch

    # As Isaac Lab's exporters: TorchScript off while tracing, so @torch.jit.script helpers stay traceable. Restored
    # afterwards: the switch is process-wide and callers (tests, notebooks) may script models of their own.
    was_enabled = bool(torch.jit._state._enabled)
    torch.jit._state.disable()
    try:
        return _export_offline(options, tool, run, make_plan, default_save_path, progress)
    finally:
        if was_enabled:
            torch.jit._state.enable()


def _export_offline(options: ExportOptions, tool: str, run: RunFiles, make_plan: Callable[[dict], PolicyPlan],
                    default_save_path: Path, progress: Callable[[str], None]) -> Path:
    import torch

    from leapp_export.actions import resolve_action
    from leapp_export.capture import capture
    from leapp_export.env_config import parse_env_config
    from leapp_export.isaaclab_yaml import load_isaaclab_yaml
    from leapp_export.robot import build_robot
    from leapp_export.states import StateSource
    from leapp_export.trace_env import TracedEnv
    from leapp_export.validate import replay

    node, graph_name = check_options(options)
    progress(f"checkpoint {run.checkpoint}")
    env_cfg = parse_env_config(load_isaaclab_yaml(run.env_yaml), str(run.env_yaml))
    agent_cfg = load_isaaclab_yaml(run.agent_yaml) if run.agent_yaml else {}
    plan = make_plan(agent_cfg)
    entity = env_cfg.actions[0].asset_name
    robot = build_robot(env_cfg, entity, options.joint_names, options.urdf, options.gains)
    actions = [resolve_action(term, robot, env_cfg.path) for term in env_cfg.actions]
    env = TracedEnv(env_cfg, robot, node, plan.groups, actions, options.export_method,
                    StateSource(robot, options.seed), plan.env_clip_actions)
    obs = env.reset()  # eager pass (leapp not started): observation sizes for the actor
    progress("observation groups " + ", ".join(f"{g}[{t.shape[-1]}]" for g, t in obs.items()))
    try:
        actor = plan.build({g: int(t.shape[-1]) for g, t in obs.items()}, env.num_actions)
    except CheckpointMismatch as exc:
        if options.joint_names is None or options.joint_names == "urdf":
            raise
        raise CheckpointMismatch(f"--joint_names lists {len(robot.joint_names)} joints, and the checkpoint does not "
                                 f"fit the actions and observations sized by them: is a joint missing from the list "
                                 f"(or one too many)? ({exc})") from exc

    save_path = Path(options.export_save_path) if options.export_save_path else default_save_path
    torch.manual_seed(options.seed)
    try:
        result = capture(env, actor, graph_name, save_path, options.export_method, options.validation_steps,
                         not options.disable_graph_visualization, env_cfg.frequency, progress)
    except ExportError:
        raise
    except Exception as exc:  # leapp raises plain Exceptions for tracing/validation failures
        raise ExportError(f"leapp failed to export node '{node}': {str(exc).strip().splitlines()[0]}") from exc

    report = {
        "tool": tool,
        "task": options.task, "node": node, "graph": graph_name,
        "checkpoint": str(run.checkpoint), "env_yaml": str(run.env_yaml),
        "agent_yaml": None if run.agent_yaml is None else str(run.agent_yaml),
        "export_method": options.export_method, "validation_steps": options.validation_steps,
        "frequency_hz": env_cfg.frequency,
        "baked": {"joint_names": robot.joint_names, "default_joint_pos": robot.default_joint_pos,
                  "default_joint_vel": robot.default_joint_vel, "stiffness": robot.stiffness,
                  "damping": robot.damping, "gains_source": options.gains},
        "leapp_validation": ("disabled" if result.leapp_validation is None else _jsonable(result.leapp_validation)),
    }
    if plan.report:
        report["policy"] = _jsonable(plan.report)
    replayed: dict[str, Any] | None = None
    if options.validation_steps > 0:
        progress("replaying bundle")
        replayed = report["replay"] = replay(result.yaml_path, node, result.records)
    (result.bundle_dir / f"{graph_name}_export_report.json").write_text(json.dumps(report, indent=1))
    if replayed is not None and not replayed["passed"]:
        raise ExportError(f"bundle '{result.yaml_path}' does not reproduce the captured outputs on "
                          f"{replayed['runtime']}: max abs errors {replayed['max_abs_error']}")
    return result.bundle_dir


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)
