"""Helpers for the export tests: Isaac-Lab-style run directories holding real rsl-rl-lib checkpoints."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ANYMAL_RUN = SHARED / "fixtures" / "isaaclab_runs" / "anymal_d_flat"
ANYMAL_RUN_DIR = ANYMAL_RUN / "run" / "logs" / "rsl_rl" / "anymal_d_flat" / "2026-03-02_09-14-27"
EXAMPLE_BUNDLES = SHARED / "fixtures" / "bundles"
EXAMPLE_TASK = "Isaac-Velocity-Flat-Anymal-D"  # node name of the make_examples.py bundles


class _ShapeOnlyEnv:
    """The part of rsl_rl's VecEnv an OnPolicyRunner reads at construction; nothing is simulated or trained."""

    def __init__(self, group_dims: dict[str, int], num_actions: int) -> None:
        import torch

        self.num_envs, self.num_actions, self.device, self.cfg = 1, num_actions, "cpu", {}
        self.max_episode_length = 1000
        self.episode_length_buf = torch.zeros(1, dtype=torch.long)
        self._dims = group_dims

    def get_observations(self):
        import torch
        from tensordict import TensorDict

        return TensorDict({g: torch.zeros(1, d) for g, d in self._dims.items()}, batch_size=[1])


def load_fixture_env_yaml() -> dict:
    from leapp_export.isaaclab_yaml import load_isaaclab_yaml

    return load_isaaclab_yaml(ANYMAL_RUN_DIR / "params" / "env.yaml")


def load_fixture_agent_yaml() -> dict:
    from leapp_export.isaaclab_yaml import load_isaaclab_yaml

    return load_isaaclab_yaml(ANYMAL_RUN_DIR / "params" / "agent.yaml")


def write_run_dir(root: Path, env_cfg: dict, agent_cfg: dict, group_dims: dict[str, int], num_actions: int,
                  seed: int, normalizer: bool = False, iteration: int = 0) -> Path:
    """A run directory as Isaac Lab + RSL-RL write it: params/{env,agent}.yaml and model_<it>.pt from
    OnPolicyRunner.save of a freshly built (untrained, seeded) actor-critic."""
    import torch
    from rsl_rl.runners import OnPolicyRunner

    run_dir = root / "logs" / "rsl_rl" / "exp" / "2026-01-01_00-00-00"
    (run_dir / "params").mkdir(parents=True, exist_ok=True)
    # yaml.dump (not safe_dump) writes slices as !!python/object/apply:builtins.slice, as Isaac Lab's dump does
    (run_dir / "params" / "env.yaml").write_text(yaml.dump(env_cfg, sort_keys=False))
    (run_dir / "params" / "agent.yaml").write_text(yaml.dump(agent_cfg, sort_keys=False))
    torch.manual_seed(seed)
    cfg = copy.deepcopy(agent_cfg)
    cfg["device"] = "cpu"
    runner = OnPolicyRunner(_ShapeOnlyEnv(group_dims, num_actions), cfg, log_dir=None, device="cpu")
    actor = runner.alg.actor
    with torch.no_grad():
        for p in actor.parameters():  # orthogonal init + zero biases gives trivial outputs; perturb them
            p.add_(0.1 * torch.randn_like(p))
        if normalizer:
            actor.obs_normalizer._mean.copy_(0.1 * torch.randn_like(actor.obs_normalizer._mean))
            actor.obs_normalizer._std.copy_(1.0 + 0.1 * torch.rand_like(actor.obs_normalizer._std))
    runner.save(str(run_dir / f"model_{iteration}.pt"))
    return run_dir


def anymal_like_env(history: int = 0) -> dict:
    """The fixture's ANYmal-D env.yaml turned into make_examples.py's ANYmal-like task (kp 40, kd 5)."""
    env = load_fixture_env_yaml()
    legs = env["scene"]["robot"]["actuators"]["legs"]
    legs["class_type"] = "isaaclab.actuators.actuator_pd:DCMotor"
    legs["stiffness"], legs["damping"] = 40.0, 5.0
    for term in ("joint_pos", "joint_vel"):
        env["observations"]["policy"][term]["history_length"] = history
    return env


def agent_cfg(memory: str | None, normalizer: bool, hidden: list[int]) -> dict:
    cfg = load_fixture_agent_yaml()
    actor = cfg["actor"]
    actor["hidden_dims"] = hidden
    actor["obs_normalization"] = normalizer
    cfg["critic"]["hidden_dims"] = hidden
    if memory:
        actor["class_name"] = "RNNModel"
        actor["rnn_type"], actor["rnn_hidden_dim"], actor["rnn_num_layers"] = memory, 16, 1
    return cfg


def comparable_contract(path: Path) -> dict:
    """A bundle YAML without what legitimately differs between machines: hashes and system information."""
    data = yaml.safe_load(path.read_text())
    data.pop("system information", None)
    for model in data["models"].values():
        for key in ("md5sum", "sha256sum"):
            model["parameters"].pop(key, None)
    return data


def contract_differences(ours: dict, ref: dict, prefix: str = "") -> list[str]:
    """Field-by-field differences (paths) between two YAML trees; order of lists and mapping keys included."""
    if isinstance(ours, dict) and isinstance(ref, dict):
        diffs = [] if list(ours) == list(ref) else [f"{prefix or '/'}: key order {list(ours)} != {list(ref)}"]
        for key in sorted(set(ours) | set(ref), key=str):
            if key not in ours or key not in ref:
                diffs.append(f"{prefix}/{key}: only in {'ours' if key in ours else 'reference'}")
            else:
                diffs += contract_differences(ours[key], ref[key], f"{prefix}/{key}")
        return diffs
    if isinstance(ours, list) and isinstance(ref, list) and len(ours) == len(ref):
        return [d for i, (a, b) in enumerate(zip(ours, ref)) for d in contract_differences(a, b, f"{prefix}[{i}]")]
    return [] if ours == ref and type(ours) is type(ref) else [f"{prefix}: {ours!r} != {ref!r}"]
