"""Drive the LEAPP capture as Isaac Lab's exporters do: reset, N x (state, policy, step), compile."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from leapp_export.errors import ExportError
from leapp_export.methods import EXPORT_METHODS
from leapp_export.policy import ExportPolicy
from leapp_export.trace_env import TracedEnv


@dataclass
class CaptureResult:
    bundle_dir: Path
    yaml_path: Path
    leapp_validation: object  # what leapp.compile_graph returned (True or a per-node result), None if disabled
    records: list[dict]


def _as_state_dict(registered, names: list[str]) -> dict[str, torch.Tensor]:
    """annotate.state_tensors returns a dict, a sequence or (for one state) a tensor; name them again."""
    if isinstance(registered, dict):
        return {name: registered[name] for name in names}
    if isinstance(registered, (list, tuple)):
        return dict(zip(names, registered))
    return {names[0]: registered}


def capture(env: TracedEnv, actor: ExportPolicy, graph_name: str, save_path: Path, export_method: str,
            validation_steps: int, visualize: bool, frequency: float,
            on_step: Callable[[str], None] = lambda _: None) -> CaptureResult:
    """Trace ``max(validation_steps, 2)`` policy steps with leapp and compile the bundle into save_path/graph_name."""
    import leapp
    from leapp import GraphConfigs, annotate

    if export_method not in EXPORT_METHODS:
        raise ExportError(f"--export_method '{export_method}' is not one of {', '.join(EXPORT_METHODS)}")
    steps = max(validation_steps, 2)
    node = env.node
    env.records.clear()
    leapp.start(graph_name, save_path=str(save_path), max_cached_io=steps)
    started = True
    try:
        obs = env.reset()
        state = actor.initial_state()
        for k in range(steps):
            with torch.inference_mode():
                if state:  # recurrent actor: its state is LEAPP feedback state (Isaac Lab's naming)
                    state = _as_state_dict(annotate.state_tensors(node, state), list(state))
                actions, new_state = actor.act(obs, state)
                if state:
                    annotate.update_state(node, new_state)
                state = new_state
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
