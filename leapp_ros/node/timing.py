"""Tick timing: a deadline-based periodic loop (never sleep(period) after work) and per-stage tick profiles."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from leapp_ros.percentiles import column_percentiles

# Stage boundaries the tick stamps with monotonic_ns: start, inputs copied, safety gate, engine, filter + publish.
STAGES = ("inputs", "safety", "engine", "publish")
_ENGINE = STAGES.index("engine")


class TickProfile:
    """A preallocated ring of per-stage tick durations (ns); the tick writes integers, the diagnostics thread
    (or a benchmark) reads percentiles. Recording allocates nothing and takes no lock."""

    def __init__(self, capacity: int = 8192) -> None:
        self._stages = np.zeros((capacity, len(STAGES)), dtype=np.int64)
        self._total = np.zeros(capacity, dtype=np.int64)
        self._wake = np.zeros(capacity, dtype=np.int64)  # how late the OS woke the tick (deadline or message, ns)
        self._capacity = capacity
        self._count = 0
        self.ticks = 0
        self.max_ns = 0
        self._rate_mark: tuple[int, float] = (0, time.monotonic())

    def record(self, t0: int, t1: int, t2: int, t3: int, t4: int, wake_ns: int = 0) -> None:
        """Stage boundaries of one tick (monotonic_ns): start, inputs, safety, engine, publish; and how late its
        thread woke (after its deadline in timer mode, after the triggering message's arrival in event mode)."""
        row = self._count % self._capacity
        self._wake[row] = wake_ns
        stages = self._stages[row]
        stages[0] = t1 - t0
        stages[1] = t2 - t1
        stages[2] = t3 - t2
        stages[3] = t4 - t3
        total = t4 - t0
        self._total[row] = total
        self._count += 1
        self.ticks += 1
        if total > self.max_ns:
            self.max_ns = total

    def window(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the recorded (stages, total) rows, oldest first order not guaranteed (percentiles only)."""
        stages, total, _wake = self.rows()
        return stages, total

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of (stages, total, wake) with the same number of rows, read once (the tick records meanwhile)."""
        n = min(self._count, self._capacity)
        return self._stages[:n].copy(), self._total[:n].copy(), self._wake[:n].copy()

    def summary(self) -> dict[str, float]:
        """p50 / p99 / max tick latency (ms), node overhead (tick minus engine, us), per-stage p50/p99 (us), and the
        achieved rate since the last call. One percentile call over every column: the diagnostics thread holds the
        interpreter lock the tick needs while it runs, so it must stay short (8192 rows at 1 kHz)."""
        stages, total, wake = self.rows()
        ticks, then = self._rate_mark
        now = time.monotonic()
        self._rate_mark = (self.ticks, now)
        result = {"rate_hz": (self.ticks - ticks) / (now - then) if now > then else 0.0}
        if not len(total):
            nan = float("nan")
            return {**result, "p50_ms": nan, "p99_ms": nan, "max_ms": nan, "overhead_p50_us": nan,
                    "overhead_p99_us": nan, "wake_p50_us": nan, "wake_p99_us": nan}
        columns = np.column_stack((total, total - stages[:, _ENGINE], stages, wake))  # ns
        p50, p99 = column_percentiles(columns) / 1e3  # us
        result.update(p50_ms=p50[0] / 1e3, p99_ms=p99[0] / 1e3, max_ms=self.max_ns / 1e6,
                      overhead_p50_us=p50[1], overhead_p99_us=p99[1])
        for i, name in enumerate(STAGES):
            result[f"{name}_p50_us"], result[f"{name}_p99_us"] = float(p50[2 + i]), float(p99[2 + i])
        result["wake_p50_us"], result["wake_p99_us"] = float(p50[-1]), float(p99[-1])
        return {k: float(v) for k, v in result.items()}

    def reset(self) -> None:
        self._count = 0
        self.max_ns = 0


class DeadlineLoop:
    """Calls `tick(deadline_missed)` at absolute deadlines start + k * period on its own thread.

    A miss is a tick that ends after its period (deadline + period) or a deadline skipped because the loop
    was more than a period late; the loop then realigns to the next deadline instead of bursting to catch up.
    `between_ticks` (if given) runs after each tick, in the slack before the next deadline (e.g. a scheduled
    garbage collection); `on_start` runs first on the loop's own thread (real-time settings of that thread).
    """

    def __init__(self, period_s: float, tick: Callable[[bool], None], name: str = "leapp-deploy-tick",
                 between_ticks: Callable[[], None] | None = None,
                 on_start: Callable[[], None] | None = None) -> None:
        self.period_ns = int(round(period_s * 1e9))
        self._tick = tick
        self._between = between_ticks
        self._on_start = on_start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.misses = 0
        self.ticks = 0
        self.skipped = 0  # deadlines that passed without a tick (counted in misses too)
        self.wake_late_ns = 0  # how long after its deadline the current tick's thread woke

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        if self._on_start is not None:
            self._on_start()
        period = self.period_ns
        clock = time.monotonic_ns
        wait = self._stop.wait
        between = self._between
        deadline = clock() + period
        overran = False
        while not self._stop.is_set():
            delay = deadline - clock()
            if delay > 0 and wait(delay / 1e9):
                break
            late = self.wake_late_ns = clock() - deadline
            skipped = late // period if late >= period else 0
            if skipped:  # deadlines that passed while we were late: count them, do not burst to catch up
                self.misses += skipped
                self.skipped += skipped
                deadline += skipped * period
            self._tick(skipped > 0 or overran)
            self.ticks += 1
            overran = clock() > deadline + period  # this tick's output came after its period
            if overran:
                self.misses += 1
            deadline += period
            if between is not None:
                between()


class EventLoop:
    """Calls `tick(False)` on its own thread each time `notify()` was called since the last tick (event mode).

    The receiving thread only sets a flag, so it stays free for the e-stop and other requests while a tick is
    blocked in inference; arrivals during a tick coalesce into one next tick (drop, never queue)."""

    def __init__(self, tick: Callable[[bool], None], name: str = "leapp-deploy-event-tick",
                 between_ticks: Callable[[], None] | None = None,
                 on_start: Callable[[], None] | None = None) -> None:
        self._tick = tick
        self._between = between_ticks
        self._on_start = on_start
        self._pending = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.misses = 0  # event mode has no deadline of its own: staleness and the guard judge timing
        self.ticks = 0
        self.skipped = 0
        self.wake_late_ns = 0  # from the triggering message's notify() to the start of its tick
        self._notified_ns = 0

    def start(self) -> None:
        self._thread.start()

    def notify(self) -> None:
        """A new triggering message was accepted (any thread)."""
        if not self._pending.is_set():
            self._notified_ns = time.monotonic_ns()  # the first of the messages this tick will answer
        self._pending.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._pending.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        if self._on_start is not None:
            self._on_start()
        pending, stop, tick, between = self._pending, self._stop, self._tick, self._between
        while True:
            pending.wait()
            if stop.is_set():
                break
            pending.clear()
            self.wake_late_ns = time.monotonic_ns() - self._notified_ns
            tick(False)
            self.ticks += 1
            if between is not None:
                between()
