"""Load a Stable-Baselines3 PPO ``model.zip`` (+ VecNormalize pickle) and act as Isaac Lab's export_sb3 does."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import torch

from leapp_export.errors import CheckpointMismatch, ExportError, require_module
from leapp_export.policy import PolicyPlan

SB3_GROUPS = ["policy"]  # Isaac Lab's export_sb3 feeds env.reset()[0]["policy"] to the policy

RECURRENT_WHY = (
    "Isaac Lab 3.0's export_sb3 calls annotate.update_state for the LSTM state after env.step(), but the action "
    "terms call annotate.output_tensors inside env.step(), so leapp 0.7.2 fails on the first step ('Reentering "
    "... with new i/o actor_state_0'): Isaac Lab cannot export RecurrentPPO, and there is no reference contract "
    "to reproduce. Export a feed-forward PPO, or an LSTM policy trained with rsl_rl, rl_games or skrl")


def vec_normalize_path(checkpoint: Path) -> Path:
    """Isaac Lab's sidecar rule: model.zip -> model_vecnormalize.pkl,
    model_<n>_steps.zip -> model_vecnormalize_<n>_steps.pkl."""
    return checkpoint.with_name(checkpoint.stem.replace("model", "model_vecnormalize", 1) + ".pkl")


def _policy_class_module(checkpoint: Path) -> str:
    """Module of the saved policy class, read from the zip's JSON without unpickling anything."""
    try:
        with zipfile.ZipFile(checkpoint) as archive:
            data = json.loads(archive.read("data"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ExportError(f"'{checkpoint}' is not a Stable-Baselines3 model archive (model.save() .zip): "
                          f"{exc}") from exc
    policy_class = data.get("policy_class")
    return str(policy_class.get("__module__", "")) if isinstance(policy_class, dict) else ""


class Sb3Policy:
    """VecNormalize observation normalisation, ``policy._predict(obs, deterministic=True)``, Box post-processing,
    all in torch so leapp traces them (Isaac Lab's normalize_observation / _policy_actions / _scale_or_clip_actions)."""

    def __init__(self, policy, vec_normalize) -> None:
        self.policy, self.vec_normalize = policy, vec_normalize

    def initial_state(self) -> dict[str, torch.Tensor]:
        return {}

    def _normalize(self, obs: torch.Tensor) -> torch.Tensor:
        vn = self.vec_normalize
        if vn is None or not vn.norm_obs:
            return obs
        mean = torch.as_tensor(vn.obs_rms.mean, dtype=obs.dtype)
        var = torch.as_tensor(vn.obs_rms.var, dtype=obs.dtype)
        return torch.clamp((obs - mean) / torch.sqrt(var + vn.epsilon), -vn.clip_obs, vn.clip_obs)

    def act(self, obs: dict[str, torch.Tensor], state: dict[str, torch.Tensor]):
        self.policy.set_training_mode(False)
        actions = self.policy._predict(self._normalize(obs["policy"]), deterministic=True)
        space = self.policy.action_space
        if hasattr(space, "low") and hasattr(space, "high"):  # BasePolicy.predict's Box handling
            low = torch.as_tensor(space.low, dtype=actions.dtype)
            high = torch.as_tensor(space.high, dtype=actions.dtype)
            if self.policy.squash_output:
                actions = low + 0.5 * (actions + 1.0) * (high - low)
            else:
                actions = torch.maximum(torch.minimum(actions, high), low)
        return actions, {}


def build_sb3_policy(checkpoint: Path, agent_cfg: dict, obs_dim: int, num_actions: int) -> Sb3Policy:
    require_module("stable_baselines3", "Stable-Baselines3 export", "stable-baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.save_util import load_from_pkl

    if _policy_class_module(checkpoint).startswith("sb3_contrib"):
        raise ExportError(f"'{checkpoint}' is an sb3-contrib (RecurrentPPO) checkpoint: {RECURRENT_WHY}")
    try:
        policy = PPO.load(str(checkpoint), device="cpu").policy
    except (ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise ExportError(f"Stable-Baselines3 cannot load PPO checkpoint '{checkpoint}': {exc}") from exc
    obs_space, act_space = policy.observation_space, policy.action_space
    if getattr(obs_space, "shape", None) != (obs_dim,):
        raise CheckpointMismatch(f"checkpoint '{checkpoint}' expects observations of shape "
                                 f"{getattr(obs_space, 'shape', None)} but env.yaml's 'policy' group has "
                                 f"{obs_dim} values")
    if getattr(act_space, "shape", None) != (num_actions,):
        raise CheckpointMismatch(f"checkpoint '{checkpoint}' outputs actions of shape "
                                 f"{getattr(act_space, 'shape', None)} but env.yaml's action terms take {num_actions}")
    sidecar = vec_normalize_path(checkpoint)
    vec_normalize = None
    if sidecar.is_file():
        vec_normalize = load_from_pkl(str(sidecar))
        if vec_normalize.norm_obs and isinstance(vec_normalize.obs_rms, dict):
            raise ExportError(f"'{sidecar}': dict observation statistics are not supported (Isaac Lab's policy group "
                              "is one Box)")
    elif agent_cfg.get("normalize_input", False):
        raise ExportError(f"agent.yaml sets normalize_input but the VecNormalize statistics '{sidecar}' are missing "
                          "(Isaac Lab's train.py saves them next to the model); without them the policy would see "
                          "unnormalised observations")
    return Sb3Policy(policy, vec_normalize)


def sb3_plan(checkpoint: Path, agent_cfg: dict) -> PolicyPlan:
    sidecar = vec_normalize_path(checkpoint)
    return PolicyPlan(
        groups=list(SB3_GROUPS), env_clip_actions=None,
        build=lambda dims, num_actions: build_sb3_policy(checkpoint, agent_cfg, dims["policy"], num_actions),
        report={"library": "sb3", "actions": "policy._predict(deterministic=True) + Box clip/squash",
                "vec_normalize": str(sidecar) if sidecar.is_file() else None})
