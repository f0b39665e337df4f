"""Drive the LEAPP capture exactly as Isaac Lab's export_rsl_rl does: reset, N x (state, policy, step), compile."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from leapp_export.errors import ExportError
from leapp_export.rsl_rl_policy import RslRlActor
from leapp_export.trace_env import TracedEnv

from leapp_export.methods import EXPORT_METHODS


@dataclass
class CaptureResult:
    bundle_dir: Path
    yaml_path: Path
    leapp_validation: object  # what leapp.compile_graph returned (True or a per-node result), None if disabled
    records: list[dict]


def _hidden_state_dict(hidden) -> dict[str, torch.Tensor]:
    if isinstance(hidden, tuple):
        return {f"actor_state_{i}": t for i, t in enumerate(hidden)}
    return {"actor_state": hidden}


def capture(env: TracedEnv, actor: RslRlActor, graph_name: str, save_path: Path, export_method: str,
            validation_steps: int, visualize: bool, frequency: float,
            on_step: Callable[[str], None] = lambda _: None) -> CaptureResult:
    """Trace ``max(validation_steps, 2)`` policy steps with leapp and compile the bundle into save_path/graph_name."""
    import leapp
    from leapp import GraphConfigs, annotate
    from tensordict import TensorDict

    if export_method not in EXPORT_METHODS:
        raise ExportError(f"--export_method '{export_method}' is not one of {', '.join(EXPORT_METHODS)}")
    steps = max(validation_steps, 2)
    node = env.node
    policy = actor.model
    env.records.clear()
    leapp.start(graph_name, save_path=str(save_path), max_cached_io=steps)
    started = True
    try:
        obs = env.reset()
        if actor.is_recurrent:
            policy.reset()
        for k in range(steps):
            with torch.inference_mode():
                if actor.is_recurrent:
                    hidden = policy.get_hidden_state()
                    if hidden is None:
                        hidden = actor.initial_hidden_state()
                    registered = annotate.state_tensors(node, _hidden_state_dict(hidden))
                    policy.rnn.hidden_state = tuple(registered) if isinstance(hidden, tuple) else registered
                actions = policy(TensorDict(obs, batch_size=[1]))
                if actor.is_recurrent:
                    annotate.update_state(node, _hidden_state_dict(policy.get_hidden_state()))
                obs = env.step(actions)
            on_step(f"captured step {k + 1}/{steps}")
        leapp.stop()
        started = False
        on_step("compiling graph")
        result = leapp.compile_graph(visualize=visualize, validate=validation_steps > 0,
                                     graph_configs=GraphConfigs(frequency=frequency))
    finally:
        if started:
            with contextlib.suppress(Exception):
                leapp.stop()
    bundle_dir = Path(save_path) / graph_name
    return CaptureResult(bundle_dir, bundle_dir / f"{graph_name}.yaml",
                         result if validation_steps > 0 else None, list(env.records))
