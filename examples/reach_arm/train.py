#!/usr/bin/env python3
"""Train the reach-arm policy with rsl-rl PPO and write an Isaac Lab-style run directory.

Usage (from the repository root)::

    .venv/bin/python examples/reach_arm/train.py                 # ~3 min on 2 CPU cores
    .venv/bin/python examples/reach_arm/train.py --max-iterations 300 --num-envs 512 --seed 42

Writes ``<log-root>/rsl_rl/reach_arm/<YYYY-mm-dd_HH-MM-SS>/`` with ``model_<it>.pt``,
``params/env.yaml``, ``params/agent.yaml``, ``run.json`` and ``joint_names.txt``, i.e. what
``isaaclab.sh -p scripts/reinforcement_learning/rsl_rl/train.py`` writes, so that
``leapp-export rsl-rl`` can export it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import task  # noqa: E402
from env import ReachArmEnv  # noqa: E402


class _NoAliasDumper(yaml.Dumper):
    """PyYAML's default dumper without &anchors (our cfg reuses tuple constants; Isaac Lab's cfgs do not)."""

    def ignore_aliases(self, data) -> bool:  # noqa: ANN001
        return True


def dump_yaml(path: Path, data: dict) -> None:
    """As ``isaaclab.utils.io.dump_yaml``: PyYAML's default dumper (tuples -> !!python/tuple), keys unsorted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        yaml.dump(data, f, Dumper=_NoAliasDumper, default_flow_style=False, sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=512)
    parser.add_argument("--max-iterations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest for this small MLP; 2 was 60x slower here)")
    parser.add_argument("--log-root", default=str(task.HERE / "logs"),
                        help="folder that receives rsl_rl/<experiment>/<timestamp>/")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    log_dir = Path(args.log_root).resolve() / "rsl_rl" / task.EXPERIMENT / stamp
    env = ReachArmEnv(args.num_envs, seed=args.seed)
    env.cfg = task.env_cfg(args.num_envs, args.seed, str(log_dir))
    agent = task.agent_cfg(args.max_iterations, args.seed)
    dump_yaml(log_dir / "params" / "env.yaml", env.cfg)
    dump_yaml(log_dir / "params" / "agent.yaml", agent)
    (log_dir / "run.json").write_text(json.dumps({
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "library": "rsl_rl", "metadata": {"agent": "rsl_rl_cfg_entry_point"},
        "task": task.TASK_ID, "version": 1}, indent=1))
    shutil.copy(task.HERE / "joint_names.txt", log_dir / "joint_names.txt")

    from rsl_rl.runners import OnPolicyRunner

    runner = OnPolicyRunner(env, json.loads(json.dumps(agent)), log_dir=str(log_dir), device="cpu")
    start = time.perf_counter()
    runner.learn(num_learning_iterations=args.max_iterations, init_at_random_ep_len=True)
    minutes = (time.perf_counter() - start) / 60.0
    print(f"[reach_arm] trained {args.max_iterations} iterations x {args.num_envs} envs in {minutes:.1f} min; "
          f"run directory: {log_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
