"""Load a skrl agent checkpoint with skrl's own Runner and act as Isaac Lab's export_skrl does (mean_actions)."""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from leapp_export.errors import CheckpointMismatch, ExportError, require_module
from leapp_export.policy import PolicyPlan

# Isaac Lab's skrl export patches only the "policy" group (SkrlVecEnvWrapper feeds obs["policy"] to the agent).
SKRL_GROUPS = ["policy"]


class _ShapeOnlySkrlEnv:
    """What skrl's Runner reads from a wrapped env to build models and the agent; nothing is simulated."""

    def __init__(self, obs_dim: int, num_actions: int) -> None:
        import gymnasium as gym

        self.device, self.num_envs, self.num_agents = torch.device("cpu"), 1, 1
        # ManagerBasedRLEnv spaces are unbounded boxes; skrl's IsaacLab wrapper passes them on.
        self.observation_space = gym.spaces.Box(-float("inf"), float("inf"), (obs_dim,))
        self.action_space = gym.spaces.Box(-float("inf"), float("inf"), (num_actions,))
        self.state_space = None

    def close(self) -> None:
        pass


class SkrlPolicy:
    """``agent.act(obs, None, timestep=0, timesteps=0)[1]["mean_actions"]``: observation preprocessor + mean."""

    def __init__(self, agent) -> None:
        self.agent = agent

    def initial_state(self) -> dict[str, torch.Tensor]:
        return {}

    def act(self, obs: dict[str, torch.Tensor], state: dict[str, torch.Tensor]):
        actions, outputs = self.agent.act(obs["policy"], None, timestep=0, timesteps=0)
        return outputs.get("mean_actions", actions), {}


def _check_cfg(agent_cfg: dict, agent_path: str) -> None:
    for key in ("models", "agent", "memory", "trainer"):
        if not isinstance(agent_cfg.get(key), dict):
            raise ExportError(f"{agent_path}: no '{key}' section (expected Isaac Lab's skrl agent config dump)")
    for role, model in agent_cfg["models"].items():
        if not isinstance(model, dict):
            continue
        layers = [layer for layer in model.get("network") or [] if isinstance(layer, dict)]
        inputs = " ".join(str(layer.get("input", "")) for layer in layers)
        if "STATES" in inputs:
            raise ExportError(f"{agent_path}: models.{role} reads STATES (privileged critic observations, "
                              "asymmetric actor-critic); only OBSERVATIONS-only skrl models are supported offline")
    if agent_cfg["agent"].get("class", "").upper() not in ("PPO", "A2C", "RPO", "TRPO"):
        raise ExportError(f"{agent_path}: skrl agent class '{agent_cfg['agent'].get('class')}' is not supported "
                          "offline (on-policy Gaussian agents: PPO, A2C, RPO, TRPO)")


def load_skrl_checkpoint(path: Path) -> dict:
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)  # skrl's Agent.load does the same
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not a checkpoint"
        raise ExportError(f"cannot load skrl checkpoint '{path}': {exc}") from exc
    if not isinstance(data, dict) or "policy" not in data:
        raise ExportError(f"'{path}' is not a skrl agent checkpoint (a dict with 'policy', written by Agent.save / "
                          f"write_checkpoint; got {sorted(data) if isinstance(data, dict) else type(data).__name__})")
    return data


def recurrent_layers(policy_state: object) -> list[str]:
    """The recurrent-weight names (torch RNN/GRU/LSTM `weight_hh_l<k>`) of a policy state dict: skrl's Runner
    builds only feed-forward models from agent.yaml, so a recurrent policy comes from custom model code."""
    if not isinstance(policy_state, dict):
        return []
    return sorted(str(k) for k in policy_state if str(k).rsplit(".", 1)[-1].startswith("weight_hh_l"))


def build_skrl_policy(checkpoint: Path, agent_cfg: dict, agent_path: str, obs_dim: int, num_actions: int):
    """Instantiate the agent from agent.yaml with skrl's Runner, load the checkpoint with Agent.load, eval mode."""
    require_module("skrl", "skrl export", "skrl")
    from skrl.utils.runner.torch import Runner

    _check_cfg(agent_cfg, agent_path)
    data = load_skrl_checkpoint(checkpoint)
    recurrent = recurrent_layers(data["policy"])
    if recurrent:
        raise ExportError(f"checkpoint '{checkpoint}': recurrent skrl policies are not supported offline yet (the "
                          f"policy has recurrent weights {recurrent[:2]}; Isaac Lab exports their LSTM state as "
                          "actor_state_0/1); use isaaclab leapp export")
    cfg = copy.deepcopy(agent_cfg)
    cfg["trainer"]["close_environment_at_exit"] = False  # as Isaac Lab's export_skrl
    experiment = cfg["agent"].setdefault("experiment", {})
    experiment["write_interval"], experiment["checkpoint_interval"] = 0, 0
    try:
        agent = Runner(_ShapeOnlySkrlEnv(obs_dim, num_actions), cfg).agent
    except (TypeError, ValueError, KeyError) as exc:
        raise ExportError(f"{agent_path}: skrl's Runner cannot build the agent from this config: {exc}") from exc
    renamed = ("state_preprocessor" in data and "observation_preprocessor" not in data
               and "observation_preprocessor" in agent.checkpoint_modules
               and "state_preprocessor" not in agent.checkpoint_modules)
    if renamed:
        # skrl 1.x name
        data = {("observation_preprocessor" if k == "state_preprocessor" else k): v for k, v in data.items()}
    unused = sorted(k for k in data if k not in agent.checkpoint_modules)
    missing = sorted(k for k in ("policy", "observation_preprocessor")
                     if k in agent.checkpoint_modules and k not in data)
    if unused or missing:  # Agent.load would skip these silently: a normaliser would be lost or never loaded
        raise ExportError(f"checkpoint '{checkpoint}' does not match the agent built from {agent_path}: "
                          f"modules only in the checkpoint {unused}, missing from it {missing} (check "
                          "agent.observation_preprocessor/state_preprocessor)")
    try:
        if renamed:  # Agent.load's loop on the renamed modules (it would skip the 1.x name)
            for name, state in data.items():
                agent.checkpoint_modules[name].load_state_dict(state)
                if hasattr(agent.checkpoint_modules[name], "eval"):
                    agent.checkpoint_modules[name].eval()
        else:
            agent.load(str(checkpoint))
    except RuntimeError as exc:
        raise CheckpointMismatch(f"checkpoint '{checkpoint}' does not fit the skrl models built from {agent_path} "
                          f"(observation dim {obs_dim}, {num_actions} actions): "
                          f"{' '.join(str(exc).strip().splitlines()[:3])}") from exc
    agent.enable_training_mode(False, apply_to_models=True)
    return SkrlPolicy(agent)


def skrl_plan(checkpoint: Path, agent_cfg: dict, agent_path: str) -> PolicyPlan:
    preprocessor = (agent_cfg.get("agent") or {}).get("observation_preprocessor") or \
        (agent_cfg.get("agent") or {}).get("state_preprocessor")
    return PolicyPlan(
        groups=list(SKRL_GROUPS), env_clip_actions=None,
        build=lambda dims, num_actions: build_skrl_policy(checkpoint, agent_cfg, agent_path, dims["policy"],
                                                          num_actions),
        report={"library": "skrl", "actions": "mean_actions", "observation_preprocessor": preprocessor})
