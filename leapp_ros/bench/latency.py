"""Time several runtimes side by side, interleaved in rounds so drift hits them all alike."""

from __future__ import annotations

import gc
import time

import numpy as np

from leapp_ros.bench.runtimes import Runtime
from leapp_ros.bench.stats import latency_stats


def time_runtimes(runtimes: list[Runtime], ticks: int, warmup: int, rounds: int = 10,
                  samples_out: dict[str, np.ndarray] | None = None) -> list[dict]:
    """Warm every runtime up, then time `ticks` single ticks each, in `rounds` interleaved blocks.

    Returns one statistics row per runtime; with `samples_out`, also fills it with the raw per-tick
    nanoseconds by runtime label (for histograms).
    """
    for runtime in runtimes:
        for _ in range(warmup):
            runtime.tick()
    samples = {id(r): np.empty(ticks, dtype=np.int64) for r in runtimes}
    per_round = max(1, ticks // rounds)
    clock = time.perf_counter_ns
    gc_was_enabled = gc.isenabled()
    gc.disable()  # collector pauses are the caller's business, not the runtime's
    try:
        for start in range(0, ticks, per_round):
            stop = min(ticks, start + per_round)
            for runtime in runtimes:
                tick, out = runtime.tick, samples[id(runtime)]
                for i in range(start, stop):
                    t0 = clock()
                    tick()
                    out[i] = clock() - t0
    finally:
        if gc_was_enabled:
            gc.enable()
    if samples_out is not None:
        samples_out.update({r.label: samples[id(r)] for r in runtimes})
    return [{"runtime": r.runtime, "backend": r.backend, "label": r.label, **latency_stats(samples[id(r)])}
            for r in runtimes]
