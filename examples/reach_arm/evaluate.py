#!/usr/bin/env python3
"""Evaluate a trained reach-arm checkpoint: EE tracking error and success rate per command window.

Usage (from the repository root)::

    .venv/bin/python examples/reach_arm/evaluate.py                      # newest run under examples/reach_arm/logs
    .venv/bin/python examples/reach_arm/evaluate.py --checkpoint <run>/model_299.pt --num-envs 128

Runs one full episode (12 s = three 4 s command windows) per environment without observation
noise and with the deterministic policy. A window succeeds when the mean end-effector position
error over its last second is below ``task.SUCCESS_THRESHOLD_M``. Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import task  # noqa: E402
from env import ReachArmEnv  # noqa: E402


def newest_checkpoint(log_root: Path) -> Path:
    runs = sorted((log_root / "rsl_rl" / task.EXPERIMENT).glob("*/model_*.pt"),
                  key=lambda p: (p.parent.name, int(p.stem.split("_")[1])))
    if not runs:
        raise SystemExit(f"no checkpoint under {log_root}/rsl_rl/{task.EXPERIMENT}; train first")
    return runs[-1]


def load_policy(checkpoint: Path, env: ReachArmEnv):
    """The deterministic actor of an rsl-rl checkpoint, built from the run's own params/agent.yaml."""
    import yaml
    from rsl_rl.runners import OnPolicyRunner

    agent_yaml = checkpoint.parent / "params" / "agent.yaml"
    agent = yaml.unsafe_load(agent_yaml.read_text())  # our own file: contains !!python/tuple
    runner = OnPolicyRunner(env, agent, log_dir=None, device="cpu")
    runner.load(str(checkpoint), load_cfg={"actor": True}, strict=False)
    return runner.get_inference_policy("cpu")


def evaluate(policy, num_envs: int, seed: int) -> dict:
    env = ReachArmEnv(num_envs, seed=seed, train=False)
    steps_per_window = int(round(task.RESAMPLING_TIME_S / task.STEP_DT))
    last_second = int(round(1.0 / task.STEP_DT))
    errors = np.zeros((env.max_episode_length, num_envs))
    obs = env.get_observations()
    with torch.inference_mode():
        for k in range(env.max_episode_length):
            obs, _, _, extras = env.step(policy(obs))
            errors[k] = extras["ee_position_error"]
    windows = errors.reshape(-1, steps_per_window, num_envs)  # [window, step, env]
    final = windows[:, -last_second:, :].mean(axis=1)  # mean error over each window's last second
    return {
        "episodes": num_envs, "command_windows": int(final.size),
        "success_threshold_m": task.SUCCESS_THRESHOLD_M,
        "success_rate": float((final < task.SUCCESS_THRESHOLD_M).mean()),
        "final_error_mean_m": float(final.mean()),
        "final_error_median_m": float(np.median(final)),
        "final_error_p95_m": float(np.percentile(final, 95)),
        "error_1s_after_command_mean_m": float(windows[:, last_second - 1, :].mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="model_<it>.pt (default: newest under --log-root)")
    parser.add_argument("--log-root", type=Path, default=task.HERE / "logs")
    parser.add_argument("--num-envs", type=int, default=128)
    parser.add_argument("--seed", type=int, default=7, help="seed of the evaluation commands and resets")
    parser.add_argument("--json", type=Path, help="also write the summary to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    checkpoint = args.checkpoint or newest_checkpoint(args.log_root)
    policy = load_policy(checkpoint, ReachArmEnv(1, seed=0, train=False))
    summary = {"checkpoint": str(checkpoint), **evaluate(policy, args.num_envs, args.seed)}
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
