"""`bench --sim`: the policy rolled out in the MuJoCo bridge, aggregated over completed episodes only.

The rollout is the sim helper's demo (`leapp_ros.demo.cli.run_demo`: MuJoCo bridge + deploy node over the
transport, the reach-arm task metrics); this module only drives it and aggregates. An episode is one reach
command window (`--hold` seconds on one target); its task metric is the end-effector position error over the
window's last second, and it succeeds below the task's threshold. The demo reports no reward.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from leapp_ros.bundle import Bundle
from leapp_ros.engine import BackendOptions
from leapp_ros.errors import LeappRosError

HOLD_S = 4.0  # seconds per reach target, the demo's default
METRIC = "final_ee_position_error_m"


@dataclass(frozen=True)
class Episode:
    completed: bool
    length: int  # policy steps
    reward: float | None
    metric: float | None
    success: bool


def require_sim(bundle: Bundle) -> Any:
    """The demo's example (its scene fits this bundle), or a clear error; checked before any timing starts."""
    try:
        from leapp_ros.demo.example import find_example
        example = find_example()
    except ImportError as exc:
        raise LeappRosError(f"bench --sim needs the MuJoCo demo (leapp_ros.demo): {exc}") from None
    if Path(bundle.yaml_path).resolve().parent != example.bundle.resolve():
        raise LeappRosError(f"bench --sim rolls out in the demo's MuJoCo scene ({example.sim_config}), which only "
                            f"fits the demo's bundle {example.bundle}; got {bundle.yaml_path}")
    return example


def run_sim(bundle: Bundle, options: BackendOptions, episodes: int, seed: int,
            transport: str = "dds") -> dict[str, Any]:
    example = require_sim(bundle)
    from leapp_ros.demo.cli import run_demo

    out = Path(tempfile.mkdtemp(prefix="leapp_bench_sim_"))
    args = argparse.Namespace(seconds=episodes * HOLD_S, hold=HOLD_S, transport=transport, out=str(out),
                              example_dir=str(example.directory), backend=options.backend, seed=seed)
    result = run_demo(args)
    steps = int(round(HOLD_S * (bundle.rate_hz or 50.0)))
    summary_ = aggregate(episodes_from_demo(result, episodes, steps), episodes, METRIC,
                         f"EE position error over the last 1 s of a {HOLD_S:g} s reach window "
                         f"< {result['success_threshold_m']} m")
    return {**summary_, "scene": str(example.sim_config), "transport": result["transport"],
            "tracking_error_rms_m": round(float(result["tracking_error_rms_m"]), 6),
            "plot": result["plot"], "metrics_file": str(out / "demo_metrics.json")}


def episodes_from_demo(result: dict[str, Any], requested: int, steps: int) -> list[Episode]:
    """One episode per reach window the demo measured; windows it never reached count as not completed."""
    finals = list(result["final_error_per_window_m"])[:requested]
    threshold = float(result["success_threshold_m"])
    done = [Episode(True, steps, None, float(e), float(e) < threshold) for e in finals]
    return done + [Episode(False, 0, None, None, False)] * (requested - len(done))


def aggregate(items: Sequence[Any], requested: int, metric_name: str, success_criterion: str) -> dict[str, Any]:
    """Length, reward, task metric and success rate over the completed episodes only (an episode cut short by a
    crash or a timeout of the bridge says nothing about the policy)."""
    done = [e for e in items if e.completed]
    rewards = [e.reward for e in done if e.reward is not None]
    metrics = [e.metric for e in done if e.metric is not None]
    return {"episodes_requested": int(requested), "episodes_completed": len(done),
            "episode_length": summary([e.length for e in done]), "reward": summary(rewards),
            "task_metric": {"name": metric_name, **summary(metrics)},
            "success_rate": round(sum(bool(e.success) for e in done) / len(done), 4) if done else None,
            "success_criterion": success_criterion}


def summary(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "mean": None, "std": None, "min": None, "max": None}
    array = np.asarray(values, dtype=np.float64)
    return {"count": int(array.size), "mean": round(float(array.mean()), 6), "std": round(float(array.std()), 6),
            "min": round(float(array.min()), 6), "max": round(float(array.max()), 6)}
