"""What the capture loop needs from a loaded actor, whatever RL library trained it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import torch


class ExportPolicy(Protocol):
    """An actor with its library's own deterministic inference semantics, traced step by step by leapp.

    ``initial_state`` names the recurrent feedback state the way Isaac Lab's exporters do (``actor_state`` for
    an rsl_rl GRU, ``actor_state_0``/``actor_state_1`` for (h, c) LSTM state); it is empty for feed-forward
    actors. ``act`` receives the registered (traced) state and returns the actions plus the new state.
    """

    def initial_state(self) -> dict[str, torch.Tensor]: ...

    def act(self, obs: dict[str, torch.Tensor],
            state: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...


@dataclass
class PolicyPlan:
    """What a library's loader knows before the env is rebuilt, and how to build the actor afterwards.

    groups: Isaac Lab observation groups the actor consumes (in order).
    env_clip_actions: symmetric clamp the library's Isaac Lab env wrapper applies to actions before the
      action terms (RslRlVecEnvWrapper / RlGamesVecEnvWrapper ``clip_actions``); None = no clamp.
    build: (group sizes, number of actions) -> the loaded actor.
    report: library facts recorded in the export report (checkpoint layout, normaliser, clipping).
    """

    groups: list[str]
    env_clip_actions: float | None
    build: Callable[[dict[str, int], int], ExportPolicy]
    report: dict = field(default_factory=dict)


def lstm_state_names(count: int) -> list[str]:
    """Isaac Lab's state_dict_from_sequence naming: actor_state_0, actor_state_1, ..."""
    return [f"actor_state_{i}" for i in range(count)]
