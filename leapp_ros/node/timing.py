"""Tick timing: a deadline-based periodic loop (never sleep(period) after work) and latency statistics."""

from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

from leapp_ros.percentiles import percentiles


class LatencyStats:
    """A preallocated ring of recent tick durations (ns) with percentile summaries for diagnostics."""

    def __init__(self, capacity: int = 4096) -> None:
        self._ring = np.zeros(capacity, dtype=np.int64)
        self._count = 0
        self.ticks = 0
        self.deadline_misses = 0
        self.max_ns = 0
        self._rate_mark: tuple[int, float] = (0, time.monotonic())

    def record(self, duration_ns: int) -> None:
        self._ring[self._count % len(self._ring)] = duration_ns
        self._count += 1
        self.ticks += 1
        if duration_ns > self.max_ns:
            self.max_ns = duration_ns

    def summary(self) -> dict[str, float]:
        """p50 / p99 / max tick latency in ms over the ring, and the achieved rate since the last call."""
        n = min(self._count, len(self._ring))
        window = self._ring[:n]
        ticks, then = self._rate_mark
        now = time.monotonic()
        self._rate_mark = (self.ticks, now)
        rate = (self.ticks - ticks) / (now - then) if now > then else 0.0
        if n == 0:
            return {"rate_hz": rate, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
        p = percentiles(window / 1e6)
        return {"rate_hz": rate, "p50_ms": p["p50"], "p99_ms": p["p99"], "max_ms": self.max_ns / 1e6}

    def reset(self) -> None:
        self._count = 0
        self.max_ns = 0


class DeadlineLoop:
    """Calls `tick(deadline_missed)` at absolute deadlines start + k * period on its own thread.

    A miss is a tick that ends after its period (deadline + period) or a deadline skipped because the loop
    was more than a period late; the loop then realigns to the next deadline instead of bursting to catch up.
    """

    def __init__(self, period_s: float, tick: Callable[[bool], None], name: str = "leapp-deploy-tick") -> None:
        self.period_ns = int(round(period_s * 1e9))
        self._tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.misses = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        period = self.period_ns
        deadline = time.monotonic_ns() + period
        overran = False
        while not self._stop.is_set():
            delay = deadline - time.monotonic_ns()
            if delay > 0 and self._stop.wait(delay / 1e9):
                break
            late = time.monotonic_ns() - deadline
            skipped = late // period if late >= period else 0
            if skipped:  # deadlines that passed while we were late: count them, do not burst to catch up
                self.misses += int(skipped)
                deadline += skipped * period
            self._tick(bool(skipped) or overran)
            overran = time.monotonic_ns() > deadline + period  # this tick's output came after its period
            if overran:
                self.misses += 1
            deadline += period
