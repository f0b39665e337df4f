"""Helpers for the multi-library export tests: Isaac-Lab-style runs holding real skrl / SB3 / rl_games / TorchRL
policies (built with each library's own classes, untrained, saved in each library's own format), and a replay of the
exported bundle through leapp_ros's engine against the library's own inference on hand-computed observations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from export_helpers import ANYMAL_RUN, EXAMPLE_BUNDLES, EXAMPLE_TASK, anymal_like_env

JOINTS = str(ANYMAL_RUN / "joint_names.txt")
OBS_DIM, NUM_ACTIONS = 48, 12
DEFAULT_POS = np.array([0.0] * 4 + [0.4, -0.4, 0.4, -0.4] + [-0.8, 0.8, -0.8, 0.8], dtype=np.float32)
REFERENCE = EXAMPLE_BUNDLES / "anymal_like_flat" / "anymal_like_flat.yaml"  # the rsl-rl path reproduces it exactly


def write_params(run_dir: Path, agent_cfg: dict | None) -> None:
    """params/env.yaml (+ agent.yaml) as Isaac Lab's train scripts dump them at training start."""
    (run_dir / "params").mkdir(parents=True, exist_ok=True)
    (run_dir / "params" / "env.yaml").write_text(yaml.dump(anymal_like_env(0), sort_keys=False))
    if agent_cfg is not None:
        (run_dir / "params" / "agent.yaml").write_text(yaml.dump(agent_cfg, sort_keys=False))


def perturb(module, seed: int, scale: float = 0.1) -> None:
    """Untrained layers start at trivial values (zero biases, small output layers): make every weight matter."""
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))


# ---- observations computed by hand for the ANYmal-like flat task -------------------------------------------

def _gravity_b(q_xyzw: np.ndarray) -> np.ndarray:
    x, y, z, w = q_xyzw.astype(np.float64)
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    return r.T @ np.array([0.0, 0.0, -1.0])


def random_inputs(rng: np.random.Generator, large: bool = False) -> dict[str, np.ndarray]:
    """One tick of bundle inputs; ``large`` drives observations past the normalisers' and wrappers' clips."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    k = 4.0 if large else 1.0
    x = {"robot_root_lin_vel_b": k * rng.normal(size=3), "robot_root_ang_vel_b": k * rng.normal(size=3),
         "robot_root_quat_w": q, "base_velocity": rng.uniform(-1, 1, 3),
         "robot_joint_pos": DEFAULT_POS + 0.2 * k * rng.normal(size=12), "robot_joint_vel": 2 * k * rng.normal(size=12)}
    return {name: np.asarray(v, dtype=np.float32) for name, v in x.items()}


def policy_obs(x: dict[str, np.ndarray], last_action: np.ndarray) -> np.ndarray:
    """The 'policy' group of the task: [lin_vel, ang_vel, gravity, command, q - q0, dq, last_action] (48)."""
    return np.concatenate([x["robot_root_lin_vel_b"], x["robot_root_ang_vel_b"], _gravity_b(x["robot_root_quat_w"]),
                           x["base_velocity"], x["robot_joint_pos"] - DEFAULT_POS, x["robot_joint_vel"],
                           last_action]).astype(np.float32)


def engine_vs_library(bundle: Path, act: Callable[[np.ndarray], np.ndarray], steps: int = 8,
                      env_clip_actions: float | None = None, seed: int = 3) -> float:
    """Run the bundle from reset through leapp_ros's Engine and the library on the same observations; the action
    term is JointPositionAction(scale 0.5, default offset). Returns the worst abs error of the joint targets."""
    from leapp_ros.engine import Engine

    engine = Engine.load(bundle)
    engine.reset()
    rng = np.random.default_rng(seed)
    last = np.zeros(NUM_ACTIONS, dtype=np.float32)
    worst = 0.0
    try:
        for step in range(steps):
            x = random_inputs(rng, large=step % 2 == 1)
            action = np.asarray(act(policy_obs(x, last)), dtype=np.float32).reshape(NUM_ACTIONS)
            if env_clip_actions is not None:  # the Isaac Lab env wrapper's clamp before the action terms
                action = np.clip(action, -env_clip_actions, env_clip_actions)
            out = engine.run({f"{EXAMPLE_TASK}/{k}": v.reshape((1, *v.shape)) for k, v in x.items()})
            target = out[f"{EXAMPLE_TASK}/joint_pos"][0]
            worst = max(worst, float(np.abs(target - (0.5 * action + DEFAULT_POS)).max()))
            np.testing.assert_allclose(out[f"{EXAMPLE_TASK}/joint_pos_kp_gains"], 40.0)
            last = action
    finally:
        engine.close()
    return worst


def export_options(tmp: Path, checkpoint: Path, **extra) -> dict:
    """Common flags, graph named like the rsl-rl reference bundle so the whole YAML contract is comparable."""
    return dict(task=EXAMPLE_TASK, checkpoint=str(checkpoint), joint_names=JOINTS, export_task_name="anymal_like_flat",
                export_save_path=str(tmp / "out"), validation_steps=3, disable_graph_visualization=True, **extra)


def contract_vs_rsl_rl(bundle: Path) -> list[str]:
    """Field-by-field differences between this bundle's contract and the rsl-rl one for the same env."""
    from export_helpers import comparable_contract, contract_differences

    return contract_differences(comparable_contract(bundle / "anymal_like_flat.yaml"), comparable_contract(REFERENCE))


def make_torchrl_actor(obs_dims: dict[str, int], num_actions: int):
    """A TorchRL PPO-style actor as used with IsaacLabWrapper: MLP -> (loc, scale) -> TanhNormal ProbabilisticActor
    reading the 'policy' group. Also the --actor_factory of the state-dict test (module:function signature)."""
    import torch
    from tensordict.nn import NormalParamExtractor, TensorDictModule
    from torchrl.data import Bounded
    from torchrl.modules import MLP, ProbabilisticActor, TanhNormal

    net = torch.nn.Sequential(MLP(in_features=obs_dims["policy"], out_features=2 * num_actions, num_cells=[32, 32],
                                  activation_class=torch.nn.ELU), NormalParamExtractor())
    return ProbabilisticActor(
        TensorDictModule(net, in_keys=["policy"], out_keys=["loc", "scale"]),
        spec=Bounded(low=-1.0, high=1.0, shape=(num_actions,)), in_keys=["loc", "scale"],
        distribution_class=TanhNormal, distribution_kwargs={"low": -1.0, "high": 1.0}, return_log_prob=True)
