"""Rebuild an RSL-RL (rsl-rl-lib 5.x) actor from a checkpoint and the run's agent.yaml."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from leapp_export.errors import CheckpointMismatch, ExportError, require_module


@dataclass
class RslRlActor:
    """The inference policy (``runner.get_inference_policy()``) plus what the capture loop needs."""

    model: Any  # rsl_rl's MLPModel / RNNModel (rnn, reset, get_hidden_state)
    actor_groups: list[str]
    clip_actions: float | None

    @property
    def is_recurrent(self) -> bool:
        return bool(getattr(self.model, "is_recurrent", False))

    def initial_hidden_state(self) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Zeros shaped like the actor RNN's state: a tensor (GRU) or an (h, c) tuple (LSTM)."""
        rnn = self.model.rnn.rnn
        zeros = torch.zeros(rnn.num_layers, 1, rnn.hidden_size)
        return (zeros.clone(), zeros.clone()) if isinstance(rnn, torch.nn.LSTM) else zeros

    def _lstm(self) -> bool:
        return isinstance(self.model.rnn.rnn, torch.nn.LSTM)

    def initial_state(self) -> dict[str, torch.Tensor]:
        """rsl_rl naming: GRU -> ``actor_state``; LSTM -> ``actor_state_0`` (h), ``actor_state_1`` (c)."""
        if not self.is_recurrent:
            return {}
        self.model.reset()
        hidden = self.model.get_hidden_state()
        return _state_dict(self.initial_hidden_state() if hidden is None else hidden)

    def act(self, obs: dict[str, torch.Tensor],
            state: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``runner.get_inference_policy()(obs)`` with the (traced) hidden state put back into the RNN."""
        from tensordict import TensorDict

        if self.is_recurrent:
            values = list(state.values())
            self.model.rnn.hidden_state = tuple(values) if self._lstm() else values[0]
        actions = self.model(TensorDict(obs, batch_size=[1]))
        return actions, (_state_dict(self.model.get_hidden_state()) if self.is_recurrent else {})


def _state_dict(hidden) -> dict[str, torch.Tensor]:
    if isinstance(hidden, tuple):
        return {f"actor_state_{i}": t for i, t in enumerate(hidden)}
    return {"actor_state": hidden}


def actor_groups(agent_cfg: dict) -> list[str]:
    """Observation groups the actor consumes: agent obs_groups['actor'] (Isaac Lab default ['policy'])."""
    groups = (agent_cfg.get("obs_groups") or {}).get("actor") or ["policy"]
    return [groups] if isinstance(groups, str) else list(groups)


def load_checkpoint(path: Path) -> dict:
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)  # RSL-RL saves plain dicts + optimizer
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not a checkpoint"
        raise ExportError(f"cannot load checkpoint '{path}': {exc}") from exc
    if not isinstance(data, dict):
        raise ExportError(f"checkpoint '{path}' is not an RSL-RL checkpoint (got {type(data).__name__})")
    if "actor_state_dict" not in data:
        if "model_state_dict" in data:
            raise ExportError(f"checkpoint '{path}' uses the rsl-rl-lib < 5 format (model_state_dict of an "
                              "ActorCritic); re-save it with rsl-rl-lib 5 or export with isaaclab leapp export")
        raise ExportError(f"checkpoint '{path}' has no 'actor_state_dict' (keys: {sorted(data)})")
    return data


def build_actor(checkpoint: Path, agent_cfg: dict, group_dims: dict[str, int], num_actions: int,
                agent_path: str) -> RslRlActor:
    """Instantiate the actor class named in agent.yaml with the env's observation shapes and load its weights."""
    require_module("rsl_rl", "RSL-RL export", "rsl-rl-lib")
    from rsl_rl.utils import resolve_callable, resolve_obs_groups
    from tensordict import TensorDict

    runner = agent_cfg.get("class_name", "OnPolicyRunner")
    if runner != "OnPolicyRunner":
        raise ExportError(f"{agent_path}: runner class '{runner}' is not supported offline (OnPolicyRunner only)")
    actor_cfg = copy.deepcopy(agent_cfg.get("actor"))
    if not isinstance(actor_cfg, dict) or "class_name" not in actor_cfg:
        raise ExportError(f"{agent_path}: no 'actor' model config with a class_name (rsl-rl-lib 5 format expected)")
    class_name = actor_cfg.pop("class_name")
    if class_name.split(".")[-1].split(":")[-1] not in ("MLPModel", "RNNModel"):
        raise ExportError(f"{agent_path}: actor class '{class_name}' is not supported offline (MLPModel, RNNModel)")
    try:
        actor_class = resolve_callable(class_name)
    except Exception as exc:  # noqa: BLE001
        raise ExportError(f"{agent_path}: cannot resolve actor class '{class_name}': {exc}") from exc
    groups = actor_groups(agent_cfg)
    obs_groups = {k: ([v] if isinstance(v, str) else list(v)) for k, v in (agent_cfg.get("obs_groups") or {}).items()}
    obs_groups.setdefault("actor", groups)
    every_group = {g for gs in obs_groups.values() for g in gs} | set(group_dims)
    # Groups only the critic reads are not rebuilt; the actor ignores them, so a placeholder size suffices.
    obs = TensorDict({g: torch.zeros(1, group_dims.get(g, 1)) for g in every_group}, batch_size=[1])
    try:
        obs_groups = resolve_obs_groups(obs, obs_groups, ["actor", "critic"])
        model = actor_class(obs, obs_groups, "actor", num_actions, **actor_cfg)
    except (TypeError, ValueError) as exc:
        raise ExportError(f"{agent_path}: cannot build actor '{class_name}' from its config: {exc}") from exc
    state = load_checkpoint(checkpoint)["actor_state_dict"]
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        obs_dim = sum(group_dims.get(g, 0) for g in groups)
        raise CheckpointMismatch(f"checkpoint '{checkpoint}' does not fit the actor built from {agent_path} and "
                                 f"env.yaml (observation dim {obs_dim}, {num_actions} actions): "
                                 f"{' '.join(first[:3])}") from exc
    model.eval()
    clip = agent_cfg.get("clip_actions")
    return RslRlActor(model, groups, None if clip is None else float(clip))
