"""Latency statistics over per-tick samples in nanoseconds."""

from __future__ import annotations

import numpy as np


def latency_stats(samples_ns: np.ndarray) -> dict[str, float]:
    """p50/p90/p99/max/mean in microseconds and throughput in ticks per second."""
    us = np.asarray(samples_ns, dtype=np.float64) / 1e3
    if us.size == 0:
        return {"ticks": 0}
    p50, p90, p99 = np.percentile(us, [50, 90, 99])
    return {"ticks": int(us.size), "p50_us": round(float(p50), 2), "p90_us": round(float(p90), 2),
            "p99_us": round(float(p99), 2), "max_us": round(float(us.max()), 2),
            "mean_us": round(float(us.mean()), 2), "throughput_hz": round(float(1e6 / us.mean()), 1)}
