"""Input freshness judged from the node's input ledger (ages since arrival) and the missed-deadline burst detector."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np


class InputLedger(Protocol):
    """What safety reads from the one record of input arrivals (`leapp_ros.binding.InputPlan` in the node).

    `ages_s[i]` is input i's age since its last accepted message at the latest snapshot, in seconds (inf when
    never received); `rejected_total` counts refused messages, `last_rejection` is (input index, reason) of the
    newest. Safety only reads: it keeps no copy of arrival times.
    """

    ages_s: np.ndarray
    rejected_total: int
    last_rejection: tuple[int, str] | None


class NothingArrived:
    """A ledger for a supervisor built without inputs to read: every input counts as never received."""

    def __init__(self, count: int) -> None:
        self.ages_s = np.full(count, np.inf)
        self.rejected_total = 0
        self.last_rejection: tuple[int, str] | None = None


def stale_limit_s(period_s: float, stale_periods: float, stale_floor_s: float) -> float:
    """A required input is stale when older than this: N control periods, but never less than the floor."""
    return max(period_s * stale_periods, stale_floor_s)


class InputWatchdog:
    """Judges required inputs by their age since arrival (from the ledger) and notices new rejections.

    Optional inputs (commands) are never stale here: the ledger zeroes timed-out commands itself.
    """

    def __init__(self, names: Sequence[str], required: Sequence[bool], max_age_s: float, ledger: InputLedger) -> None:
        if len(names) != len(required):
            raise ValueError("names and required differ in length")
        if len(ledger.ages_s) != len(names):
            raise ValueError(f"the input ledger tracks {len(ledger.ages_s)} inputs, the watchdog {len(names)}")
        self.names = tuple(names)
        self.required = np.array(required, dtype=bool)
        self.max_age_s = max_age_s + 1e-9  # tolerance: exactly at the limit is fresh
        self.ledger = ledger
        self._seen_rejections = ledger.rejected_total
        self._stale = np.zeros(len(self.names), dtype=bool)

    def first_stale(self) -> int:
        """Index of the first required input older than the limit (or never received), else -1."""
        stale = self._stale
        np.greater(self.ledger.ages_s, self.max_age_s, out=stale)
        stale &= self.required
        if np.logical_or.reduce(stale):  # not .any(): its Python wrapper costs more than the reduction
            return int(np.flatnonzero(stale)[0])
        return -1

    def new_rejection(self) -> tuple[str, str] | None:
        """(input name, reason) when a message was rejected since the last call, else None."""
        total = self.ledger.rejected_total
        if total == self._seen_rejections:
            return None
        self._seen_rejections = total
        last = self.ledger.last_rejection
        return (self.names[last[0]], last[1]) if last is not None else None

    def age(self, index: int) -> float:
        return float(self.ledger.ages_s[index])

    def describe_stale(self, index: int) -> str:
        name, age = self.names[index], self.age(index)
        if not math.isfinite(age):
            return f"input '{name}' not received yet"
        return f"input '{name}' is {age * 1e3:.0f} ms old (limit {self.max_age_s * 1e3:.0f} ms)"


class DeadlineBurstDetector:
    """Trips when at least `burst` of the last `window` ticks missed their deadline."""

    def __init__(self, burst: int, window: int) -> None:
        if not 1 <= burst <= window:
            raise ValueError(f"deadline burst {burst} must be between 1 and the window {window}")
        self.burst = burst
        self.window = window
        self._ring = bytearray(window)  # 0/1 per tick; plain ints, no numpy scalar per tick
        self._next = 0
        self.in_window = 0
        self.total_missed = 0

    def update(self, missed: bool) -> bool:
        ring, index = self._ring, self._next
        old = ring[index]
        ring[index] = 1 if missed else 0
        self._next = (index + 1) % self.window
        self.in_window += ring[index] - old
        self.total_missed += int(missed)
        return self.in_window >= self.burst

    def reset(self) -> None:
        self._ring[:] = bytes(self.window)
        self.in_window = 0


def burst_sizes(burst: int, window: int, rate_hz: float) -> tuple[int, int]:
    """The configured (burst, window) in ticks; 0 means the default: one second of ticks, half of them missed."""
    window = window or max(1, burst, round(rate_hz))
    burst = burst or max(1, math.ceil(window / 2))
    return burst, window
