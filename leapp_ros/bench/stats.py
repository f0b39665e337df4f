"""Latency statistics over per-tick samples in nanoseconds."""

from __future__ import annotations

import numpy as np

from leapp_ros.percentiles import percentiles


def latency_stats(samples_ns: np.ndarray) -> dict[str, float]:
    """p50/p90/p99/max/mean in microseconds and throughput in ticks per second."""
    us = np.asarray(samples_ns, dtype=np.float64) / 1e3
    if us.size == 0:
        return {"ticks": 0}
    p = percentiles(us, (50, 90, 99))
    return {"ticks": int(us.size), **{f"{q}_us": round(float(v or 0.0), 2) for q, v in p.items()},
            "max_us": round(float(us.max()), 2),
            "mean_us": round(float(us.mean()), 2), "throughput_hz": round(float(1e6 / us.mean()), 1)}
