"""Input staleness watchdog (ages in control periods, stamp order) and the missed-deadline burst detector."""

from __future__ import annotations

import math
from enum import Enum
from typing import Sequence

import numpy as np


class StampVerdict(str, Enum):
    """How a message's header stamp relates to the previous one on the same input."""

    OK = "ok"
    DUPLICATE = "duplicate"  # same stamp again: drop, it refreshes nothing
    OUT_OF_ORDER = "out_of_order"  # older than the last one: drop
    JUMPED_BACK = "jumped_back"  # older by more than the jump threshold: a clock reset, accept and re-base
    FUTURE = "future"  # ahead of the node's clock by more than the tolerance: drop (a spoofer or a wrong clock)


class InputWatchdog:
    """Tracks, per input, when the last accepted message arrived (node clock, seconds) and rejected ones.

    Required inputs older than `stale_periods` control periods trip the supervisor; optional inputs (e.g.
    a velocity command) only report `timed_out` so the node can fall back to zeros. Marks come from
    transport threads: each is a single float store, read once per tick.
    """

    def __init__(self, names: Sequence[str], required: Sequence[bool], period_s: float, stale_periods: float,
                 timeout_s: Sequence[float | None] | None = None, clock_jump_s: float = 1.0,
                 future_tolerance_s: float = math.inf) -> None:
        if len(names) != len(required):
            raise ValueError("names and required differ in length")
        self.names = tuple(names)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.required = np.array(required, dtype=bool)
        self.max_age_s = period_s * stale_periods + 1e-9  # tolerance: exactly N periods old is fresh
        self.timeout_s = np.array([math.inf if t is None else t for t in (timeout_s or [None] * len(names))])
        self.clock_jump_s = clock_jump_s
        self.future_tolerance_s = future_tolerance_s
        n = len(self.names)
        self.last_s = np.full(n, -math.inf)  # receipt time of the last accepted message
        self.last_stamp_s = np.full(n, -math.inf)  # header stamp of the last accepted message
        self.received = np.zeros(n, dtype=np.int64)
        self.dropped = np.zeros(n, dtype=np.int64)  # duplicate / out-of-order stamps
        self.rejected = np.zeros(n, dtype=np.int64)
        self.future = np.zeros(n, dtype=np.int64)  # dropped: stamped ahead of arrival beyond the tolerance
        self._rejection: list[str | None] = [None] * n
        self._ages = np.zeros(n)

    def check_stamp(self, name: str, stamp_s: float, now_s: float | None = None) -> StampVerdict:
        """Judge a header stamp before decoding; drop FUTURE, DUPLICATE and OUT_OF_ORDER messages.

        `now_s` (the node's clock at arrival; None or 0 = unknown, e.g. no /clock yet) enables the FUTURE check:
        a future stamp never becomes the input's last stamp, so it cannot make the real driver's messages look old.
        """
        i = self.index[name]
        if now_s and stamp_s > now_s + self.future_tolerance_s:
            self.future[i] += 1
            return StampVerdict.FUTURE
        last = self.last_stamp_s[i]
        if stamp_s > last:
            return StampVerdict.OK
        if stamp_s < last - self.clock_jump_s:
            self.last_stamp_s[i] = -math.inf
            return StampVerdict.JUMPED_BACK
        self.dropped[i] += 1
        return StampVerdict.DUPLICATE if stamp_s == last else StampVerdict.OUT_OF_ORDER

    def mark(self, name: str, now_s: float, stamp_s: float | None = None) -> None:
        """An accepted, fully decoded message of input `name` arrived at `now_s`."""
        i = self.index[name]
        self.last_s[i] = now_s
        if stamp_s is not None:
            self.last_stamp_s[i] = stamp_s
        self.received[i] += 1

    def reject(self, name: str, reason: str) -> None:
        """A message of `name` was refused as a whole (NaN/Inf, missing joint, wrong length)."""
        i = self.index[name]
        self.rejected[i] += 1
        self._rejection[i] = reason

    def take_rejection(self) -> tuple[str, str] | None:
        """The first pending rejection (name, reason), clearing all pending ones."""
        found = None
        for i, reason in enumerate(self._rejection):
            if reason is not None:
                if found is None:
                    found = (self.names[i], reason)
                self._rejection[i] = None
        return found

    def first_stale(self, now_s: float) -> int:
        """Index of the first required input older than the limit (or never received), else -1."""
        np.subtract(now_s, self.last_s, out=self._ages)
        stale = self.required & (self._ages > self.max_age_s)
        if stale.any():
            return int(np.flatnonzero(stale)[0])
        return -1

    def timed_out(self, name: str, now_s: float) -> bool:
        i = self.index[name]
        return bool(now_s - self.last_s[i] > self.timeout_s[i])

    def age(self, index: int, now_s: float) -> float:
        return now_s - float(self.last_s[index])

    def describe_stale(self, index: int, now_s: float) -> str:
        name = self.names[index]
        future = f" ({self.future[index]} messages dropped as stamped in the future)" if self.future[index] else ""
        if not math.isfinite(self.last_s[index]):
            return f"input '{name}' not received yet{future}"
        return f"input '{name}' is {self.age(index, now_s) * 1e3:.0f} ms old (limit {self.max_age_s * 1e3:.0f} ms)"

    def forget(self) -> None:
        """Clock jump: every input counts as never received until its next message."""
        self.last_s.fill(-math.inf)
        self.last_stamp_s.fill(-math.inf)


class DeadlineBurstDetector:
    """Trips when at least `burst` of the last `window` ticks missed their deadline."""

    def __init__(self, burst: int, window: int) -> None:
        if not 1 <= burst <= window:
            raise ValueError(f"deadline burst {burst} must be between 1 and the window {window}")
        self.burst = burst
        self._ring = np.zeros(window, dtype=bool)
        self._next = 0
        self.in_window = 0
        self.total_missed = 0

    def update(self, missed: bool) -> bool:
        old = self._ring[self._next]
        self._ring[self._next] = missed
        self._next = (self._next + 1) % len(self._ring)
        self.in_window += int(missed) - int(old)
        self.total_missed += int(missed)
        return self.in_window >= self.burst

    def reset(self) -> None:
        self._ring.fill(False)
        self.in_window = 0
