"""Load a TorchRL actor (TensorDictModule / ProbabilisticActor) and act deterministically, as with IsaacLabWrapper.

Accepted checkpoint formats (documented in docs/export.md):

* a whole module: ``torch.save(actor, "actor.pt")`` where ``actor`` is a ``tensordict.nn.TensorDictModuleBase``
  (``TensorDictModule``, ``TensorDictSequential``, ``ProbabilisticActor``, ...). Unpickled with
  ``weights_only=False``: only export files you trust.
* a state dict: ``torch.save(actor.state_dict(), "actor.pt")`` plus ``--actor_factory module:function``, a
  function ``(obs_dims: dict[str, int], num_actions: int) -> TensorDictModuleBase`` that rebuilds the actor;
  loaded with ``load_state_dict(strict=True)``.

The actor's ``in_keys`` must be Isaac Lab observation group names (torchrl's IsaacLabWrapper exposes each group,
e.g. ``"policy"``, as a top-level key); the action is read from ``--action_key`` (default ``"action"``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from leapp_export.errors import CheckpointMismatch, ExportError, require_module
from leapp_export.policy import PolicyPlan


class TorchRlPolicy:
    """``actor(TensorDict(obs))[action_key]`` under ``set_exploration_type(ExplorationType.DETERMINISTIC)``."""

    def __init__(self, actor, in_keys: list[str], action_key: str) -> None:
        self.actor, self.in_keys, self.action_key = actor, in_keys, action_key

    def initial_state(self) -> dict[str, torch.Tensor]:
        return {}

    def act(self, obs: dict[str, torch.Tensor], state: dict[str, torch.Tensor]):
        from tensordict import TensorDict
        from torchrl.envs.utils import ExplorationType, set_exploration_type

        with set_exploration_type(ExplorationType.DETERMINISTIC):
            out = self.actor(TensorDict({k: obs[k] for k in self.in_keys}, batch_size=[1]))
        return out.get(self.action_key), {}


def _resolve_factory(spec: str):
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise ExportError(f"--actor_factory '{spec}' must be 'module:function'")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ExportError(f"--actor_factory '{spec}' cannot be imported: {exc}") from exc


def load_torchrl_actor(checkpoint: Path, factory: str | None):
    """The saved object: a whole TensorDictModuleBase, or a state dict loaded into ``factory``'s actor (later)."""
    require_module("torchrl", "TorchRL export", "torchrl")
    from tensordict.nn import TensorDictModuleBase

    try:
        data = torch.load(checkpoint, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure
        raise ExportError(f"cannot load TorchRL actor '{checkpoint}': {exc}") from exc
    if isinstance(data, TensorDictModuleBase):
        if factory:
            raise ExportError(f"'{checkpoint}' holds a whole module; --actor_factory is only for state dicts")
        return data
    if isinstance(data, dict) and all(isinstance(v, torch.Tensor) for v in data.values()):
        if not factory:
            raise ExportError(f"'{checkpoint}' holds a state dict; pass --actor_factory module:function that "
                              "rebuilds the actor (or save the whole module with torch.save(actor, path))")
        return data
    raise ExportError(f"'{checkpoint}' holds a {type(data).__name__}, not a TensorDictModuleBase actor or its "
                      "state dict")


def _in_keys(actor, checkpoint: Path) -> list[str]:
    keys = list(actor.in_keys)
    nested = [k for k in keys if not isinstance(k, str)]
    if nested:
        raise ExportError(f"actor '{checkpoint}' reads nested keys {nested}; Isaac Lab observation groups are "
                          "top-level keys (e.g. 'policy')")
    return keys


def torchrl_plan(checkpoint: Path, factory: str | None, action_key: str, groups: list[str] | None) -> PolicyPlan:
    """groups: the actor's in_keys (whole module) or ``--obs_groups`` (state dict; default ['policy'])."""
    from tensordict.nn import TensorDictModuleBase

    loaded = load_torchrl_actor(checkpoint, factory)
    actor = loaded if isinstance(loaded, TensorDictModuleBase) else None
    if actor is not None:
        in_keys = _in_keys(actor, checkpoint)
        if groups and groups != in_keys:
            raise ExportError(f"--obs_groups {groups} differ from the actor's in_keys {in_keys}")
    else:
        in_keys = groups or ["policy"]

    def build(dims: dict[str, int], num_actions: int) -> TorchRlPolicy:
        module = actor
        if module is None:
            assert factory is not None  # a state dict comes with --actor_factory (checked above)
            module = _resolve_factory(factory)({g: dims[g] for g in in_keys}, num_actions)
            if not isinstance(module, TensorDictModuleBase):
                raise ExportError(f"--actor_factory '{factory}' returned a {type(module).__name__}, not a "
                                  "TensorDictModuleBase")
            try:
                module.load_state_dict(loaded, strict=True)
            except RuntimeError as exc:
                raise CheckpointMismatch(f"state dict '{checkpoint}' does not fit the actor from '{factory}': "
                                  f"{' '.join(str(exc).strip().splitlines()[:3])}") from exc
            if _in_keys(module, checkpoint) != in_keys:
                raise ExportError(f"the actor from '{factory}' reads {list(module.in_keys)}, expected {in_keys} "
                                  "(--obs_groups)")
        if action_key not in [k for k in module.out_keys if isinstance(k, str)]:
            raise ExportError(f"actor '{checkpoint}' does not write '{action_key}' (out_keys {list(module.out_keys)}); "
                              "pass --action_key")
        module.eval()
        return TorchRlPolicy(module, in_keys, action_key)

    return PolicyPlan(groups=in_keys, env_clip_actions=None, build=build,
                      report={"library": "torchrl", "format": "module" if actor is not None else "state_dict",
                              "actor_factory": factory, "in_keys": in_keys, "action_key": action_key,
                              "exploration_type": "DETERMINISTIC"})
