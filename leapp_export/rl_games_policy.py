"""Load an rl_games continuous A2C checkpoint with rl_games' own player and act as Isaac Lab's export_rl_games."""

from __future__ import annotations

import contextlib
import copy
import math
import sys
from pathlib import Path

import torch

from leapp_export.errors import CheckpointMismatch, ExportError, require_module
from leapp_export.policy import PolicyPlan, lstm_state_names


def _params(agent_cfg: dict, agent_path: str) -> dict:
    params = agent_cfg.get("params")
    if not isinstance(params, dict) or not isinstance(params.get("config"), dict):
        raise ExportError(f"{agent_path}: no 'params.config' (expected Isaac Lab's rl_games agent config dump)")
    algo = (params.get("algo") or {}).get("name")
    if algo != "a2c_continuous":
        raise ExportError(f"{agent_path}: rl_games algo '{algo}' is not supported offline (a2c_continuous only)")
    rnn = (params.get("network") or {}).get("rnn")
    if rnn and str(rnn.get("name", "")).lower() != "lstm":
        raise ExportError(f"{agent_path}: rl_games '{rnn.get('name')}' recurrent networks are not exportable "
                          "(Isaac Lab exports LSTM state only; GRU is rejected with NotImplementedError)")
    return params


def wrapper_settings(agent_cfg: dict, agent_path: str) -> tuple[list[str], float, float]:
    """RlGamesVecEnvWrapper.from_agent_cfg: actor groups, clip_observations and clip_actions (default inf)."""
    env = _params(agent_cfg, agent_path).get("env") or {}
    if env.get("concate_obs_groups", True) is False:
        raise ExportError(f"{agent_path}: params.env.concate_obs_groups=false (dict observations) is not supported")
    groups = (env.get("obs_groups") or {}).get("obs") or ["policy"]
    groups = [groups] if isinstance(groups, str) else list(groups)
    return groups, float(env.get("clip_observations", math.inf)), float(env.get("clip_actions", math.inf))


class RlGamesPolicy:
    """The wrapper's observation clamp + concatenation, then ``player.get_action(obs, is_deterministic=True)``
    (running mean/std normaliser, mu, and the player's clamp(-1, 1) + rescale to the wrapper's action space)."""

    def __init__(self, player, groups: list[str], clip_obs: float) -> None:
        self.player, self.groups, self.clip_obs = player, groups, clip_obs

    def initial_state(self) -> dict[str, torch.Tensor]:
        if not self.player.is_rnn:
            return {}
        self.player.init_rnn()
        return dict(zip(lstm_state_names(len(self.player.states)), self.player.states))

    def act(self, obs: dict[str, torch.Tensor], state: dict[str, torch.Tensor]):
        parts = [torch.clamp(obs[g], -self.clip_obs, self.clip_obs) for g in self.groups]
        x = torch.cat(parts, dim=1)  # make_concat_plan: 1-D groups are concatenated on dim 1
        if self.player.is_rnn:
            self.player.states = list(state.values())
        actions = self.player.get_action(self.player.obs_to_torch(x), is_deterministic=True)
        new_state = dict(zip(state, self.player.states)) if self.player.is_rnn else {}
        return actions, new_state


def build_rl_games_policy(checkpoint: Path, agent_cfg: dict, agent_path: str, group_dims: dict[str, int],
                          num_actions: int) -> RlGamesPolicy:
    """PpoPlayerContinuous built from agent.yaml's params with the wrapper's spaces; player.restore(checkpoint)."""
    require_module("rl_games", "rl_games export", "rl-games")
    import gymnasium as gym
    from rl_games.algos_torch.players import PpoPlayerContinuous

    groups, clip_obs, clip_actions = wrapper_settings(agent_cfg, agent_path)
    params = copy.deepcopy(_params(agent_cfg, agent_path))
    config = params["config"]
    if config.get("clip_actions", True) and not math.isfinite(clip_actions):
        raise ExportError(f"{agent_path}: the rl_games player rescales clamp(mu, -1, 1) to the action space "
                          "(-clip_actions, clip_actions), but params.env.clip_actions is not set (inf): the actions "
                          "would be NaN; set params.env.clip_actions as Isaac Lab's rl_games configs do")
    obs_dim = sum(group_dims[g] for g in groups)
    config["env_info"] = {  # what RlGamesVecEnvWrapper.get_env_info reports; no env is created
        "observation_space": gym.spaces.Box(-clip_obs, clip_obs, (obs_dim,)),
        "action_space": gym.spaces.Box(-clip_actions, clip_actions, (num_actions,)),
        "agents": 1, "value_size": 1}
    config["vec_env"] = None
    config["device"] = config["device_name"] = "cpu"
    config["num_actors"] = 1
    # rl_games prints progress on stdout; keep stdout for the bundle path the CLI prints
    with contextlib.redirect_stdout(sys.stderr):
        return _restored_player(PpoPlayerContinuous, params, checkpoint, agent_path, groups, clip_obs, obs_dim,
                                num_actions)


def _restored_player(player_class, params: dict, checkpoint: Path, agent_path: str, groups: list[str],
                     clip_obs: float, obs_dim: int, num_actions: int) -> RlGamesPolicy:
    try:
        player = player_class(params)
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"{agent_path}: rl_games cannot build the player from params: {exc!r}") from exc
    try:
        player.restore(str(checkpoint))
    except (RuntimeError, KeyError) as exc:
        raise CheckpointMismatch(f"checkpoint '{checkpoint}' does not fit the rl_games network built from {agent_path} "
                          f"(observation dim {obs_dim}, {num_actions} actions): "
                          f"{' '.join(str(exc).strip().splitlines()[:3])}") from exc
    except Exception as exc:  # noqa: BLE001 - unpickling errors
        raise ExportError(f"cannot load rl_games checkpoint '{checkpoint}': {exc}") from exc
    player.reset()
    player.get_batch_size(torch.zeros(1, obs_dim), 1)  # marks observations as batched, as in Isaac Lab's export
    if player.is_rnn and len(player.states or []) != 2:
        raise ExportError(f"{agent_path}: only LSTM (h, c) recurrent state is exportable")
    return RlGamesPolicy(player, groups, clip_obs)


def rl_games_plan(checkpoint: Path, agent_cfg: dict, agent_path: str) -> PolicyPlan:
    groups, clip_obs, clip_actions = wrapper_settings(agent_cfg, agent_path)
    config = _params(agent_cfg, agent_path)["config"]
    return PolicyPlan(
        groups=groups, env_clip_actions=clip_actions if math.isfinite(clip_actions) else None,
        build=lambda dims, num_actions: build_rl_games_policy(checkpoint, agent_cfg, agent_path, dims, num_actions),
        report={"library": "rl_games", "actions": "player.get_action(is_deterministic=True)",
                "clip_observations": clip_obs, "clip_actions": clip_actions,
                "normalize_input": bool(config.get("normalize_input", False))})
