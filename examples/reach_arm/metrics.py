"""Reach-task metrics and plot shared by the evaluations and the demo: targets, per-window errors, PNG."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import task


def demo_targets(count: int, seed: int = 3) -> np.ndarray:
    """``count`` reach targets (base frame, metres) drawn from the training command ranges."""
    rng = np.random.default_rng(seed)
    lo = np.array([task.POS_RANGES[k][0] for k in ("pos_x", "pos_y", "pos_z")])
    hi = np.array([task.POS_RANGES[k][1] for k in ("pos_x", "pos_y", "pos_z")])
    return rng.uniform(lo, hi, (count, 3))


@dataclass
class ReachTrace:
    """Time series of one run: time [s], commanded and achieved EE positions [m] in the base frame."""

    time: list[float]
    commanded: list[np.ndarray]
    achieved: list[np.ndarray]

    @classmethod
    def empty(cls) -> ReachTrace:
        return cls([], [], [])

    def add(self, t: float, commanded: np.ndarray, achieved: np.ndarray) -> None:
        self.time.append(float(t))
        self.commanded.append(np.asarray(commanded, dtype=float).copy())
        self.achieved.append(np.asarray(achieved, dtype=float).copy())


def window_metrics(trace: ReachTrace, settle_window_s: float = 1.0) -> dict:
    """Per command window (constant commanded target): mean error over its last ``settle_window_s``.

    A window succeeds when that error is below ``task.SUCCESS_THRESHOLD_M``.
    """
    t = np.asarray(trace.time)
    cmd = np.asarray(trace.commanded)
    err = np.linalg.norm(cmd - np.asarray(trace.achieved), axis=1)
    change = np.flatnonzero(np.any(np.abs(np.diff(cmd, axis=0)) > 1e-9, axis=1)) + 1
    bounds = np.r_[0, change, len(t)]
    finals = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        tail = (t[a:b] >= t[b - 1] - settle_window_s)
        finals.append(float(err[a:b][tail].mean()))
    finals_arr = np.asarray(finals)
    return {
        "command_windows": len(finals),
        "success_threshold_m": task.SUCCESS_THRESHOLD_M,
        "success_rate": float((finals_arr < task.SUCCESS_THRESHOLD_M).mean()),
        "final_error_mean_m": float(finals_arr.mean()),
        "final_error_max_m": float(finals_arr.max()),
        "final_error_per_window_m": [round(f, 4) for f in finals],
        "tracking_error_rms_m": float(np.sqrt(np.mean(err ** 2))),
        "duration_s": float(t[-1] - t[0]) if len(t) else 0.0,
    }


def plot_trace(trace: ReachTrace, path: Path, title: str) -> Path:
    """PNG: commanded vs achieved x/y/z and the position error over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.asarray(trace.time)
    cmd, ach = np.asarray(trace.commanded), np.asarray(trace.achieved)
    fig, axes = plt.subplots(4, 1, figsize=(9, 9), sharex=True)
    for i, axis in enumerate("xyz"):
        axes[i].plot(t, cmd[:, i], "--", color="tab:green", label="commanded")
        axes[i].plot(t, ach[:, i], color="tab:blue", label="achieved")
        axes[i].set_ylabel(f"{axis} [m]")
    axes[0].legend(loc="upper right")
    err = np.linalg.norm(cmd - ach, axis=1)
    axes[3].plot(t, 100.0 * err, color="tab:red")
    axes[3].axhline(100.0 * task.SUCCESS_THRESHOLD_M, color="gray", lw=0.8, ls=":")
    axes[3].set_ylabel("error [cm]")
    axes[3].set_xlabel("time [s]")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
