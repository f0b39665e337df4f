"""The engine alone on the deploy node's deadline timer at a chosen rate: achieved rate, misses, CPU, memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from leapp_ros.bench.process import ProcessMeter
from leapp_ros.bench.stats import latency_stats
from leapp_ros.errors import LeappRosError
from leapp_ros.percentiles import percentiles


def run_paced(tick: Callable[[], object], rate_hz: float, seconds: float) -> dict[str, Any]:
    """Call `tick` at `rate_hz` for `seconds` on the node's DeadlineLoop (the same timer the deploy node uses).

    Measures the tick duration, the start-to-start interval (jitter), deadlines missed as the loop counts
    them, and this process's CPU share and RSS over the run.
    """
    if rate_hz <= 0 or seconds <= 0:
        raise LeappRosError(f"--rate and --seconds must be > 0 (got {rate_hz} Hz, {seconds} s)")
    from leapp_ros.node.timing import DeadlineLoop

    capacity = int(rate_hz * seconds * 1.5) + 16
    starts = np.zeros(capacity, dtype=np.int64)
    durations = np.zeros(capacity, dtype=np.int64)
    count = [0]
    clock = time.perf_counter_ns

    def timed_tick(_missed: bool) -> None:
        i = count[0]
        if i >= capacity:
            return
        t0 = clock()
        tick()
        starts[i], durations[i] = t0, clock() - t0
        count[0] = i + 1

    loop = DeadlineLoop(1.0 / rate_hz, timed_tick, name="leapp-bench-paced")
    meter = ProcessMeter(role="bench (engine on the deadline timer)").start()
    began = time.perf_counter()
    loop.start()
    time.sleep(seconds)
    loop.stop()
    elapsed = time.perf_counter() - began
    process = meter.stop()
    n = count[0]
    intervals = np.diff(starts[:n])
    return {"rate_hz": float(rate_hz), "seconds": round(elapsed, 3), "ticks": n,
            "achieved_hz": round(n / elapsed, 2), "missed_deadlines": int(loop.misses),
            "tick": latency_stats(durations[:n]),
            "interval": _interval_stats(intervals, 1e9 / rate_hz),
            "process": process}


def _interval_stats(intervals_ns: np.ndarray, period_ns: float) -> dict[str, float]:
    if intervals_ns.size == 0:
        return {"count": 0}
    us = intervals_ns / 1e3
    jitter = np.abs(intervals_ns - period_ns) / 1e3
    return {"count": int(us.size), "mean_us": round(float(us.mean()), 2),
            **{f"{q}_abs_jitter_us": round(float(v or 0.0), 2) for q, v in percentiles(jitter).items()},
            "max_abs_jitter_us": round(float(jitter.max()), 2)}
