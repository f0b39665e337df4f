"""Per-tick output filters on preallocated arrays: the command buffer, finiteness, limit clamp, ramp-in blend."""

from __future__ import annotations

from enum import Enum

import numpy as np

from leapp_ros.safety.limits import JointLimits

# Direct ufunc reductions: ndarray.any()/.all()/.sum() go through Python wrappers that cost more than the
# reduction itself on a joint vector.
any_true = np.logical_or.reduce
_all = np.logical_and.reduce


def clip(values: np.ndarray, lower: np.ndarray, upper: np.ndarray, out: np.ndarray) -> np.ndarray:
    """np.clip as its two ufuncs (np.clip is three Python wrappers deep); NaN stays NaN, as with np.clip."""
    np.maximum(values, lower, out=out)
    np.minimum(out, upper, out=out)
    return out


class CommandMode(str, Enum):
    """What produced a published command."""

    POLICY = "policy"  # ACTIVE: the policy's targets, clamped
    RAMP = "ramp"  # RAMP_IN: blend from the measured pose
    HOLD = "hold"  # the last safe targets (or the measured pose)
    DAMP = "damp"  # kp = 0, kd = damping


class SafetyCommand:
    """The one command buffer the supervisor fills each tick (reused: encode it before the next tick).

    `position`, `velocity` (always zero: the policies give position targets), `kp` and `kd` are in the
    command joint order. `has_gains` is False on a position-only command interface (kp/kd unused).
    """

    def __init__(self, joint_names: tuple[str, ...], has_gains: bool) -> None:
        n = len(joint_names)
        self.joint_names = joint_names
        self.has_gains = has_gains
        # One block, rows position, kp, kd, velocity: the finiteness check of what is published is one call.
        self._block = np.zeros((4, n))
        self.position, self.kp, self.kd, self.velocity = self._block
        self._published = self._block[:3] if has_gains else self._block[:1]
        self.mode = CommandMode.HOLD

    def is_finite(self) -> bool:
        return all_finite(self._published)

    def copy_arrays(self) -> dict[str, np.ndarray]:
        """A snapshot (for tests and logs; allocates)."""
        return {"position": self.position.copy(), "velocity": self.velocity.copy(),
                "kp": self.kp.copy(), "kd": self.kd.copy()}


def all_finite(values: np.ndarray) -> bool:
    """True when no entry is NaN or Inf (one ufunc and one reduction; no arithmetic, so no floating-point
    warnings whatever the values)."""
    return bool(_all(np.isfinite(values), axis=None))


def first_non_finite(values: np.ndarray) -> int:
    """Index of the first NaN/Inf entry, or -1 (no allocation when all are finite)."""
    if all_finite(values):
        return -1
    return int(np.flatnonzero(~np.isfinite(values))[0])


class LimitClamp:
    """Clamps targets to the position limits, counts clamps per joint, reports targets beyond the margin."""

    def __init__(self, limits: JointLimits, margin: float) -> None:
        self.lower = limits.lower
        self.upper = limits.upper
        self.trip_lower = limits.lower - margin
        self.trip_upper = limits.upper + margin
        self.counts = np.zeros(len(limits), dtype=np.int64)
        self.total = 0
        self._below = np.zeros(len(limits), dtype=bool)
        self._above = np.zeros(len(limits), dtype=bool)
        self._clipped = np.zeros(len(limits))

    def apply(self, target: np.ndarray, out: np.ndarray) -> int:
        """Write the clamped `target` into `out`; return the first joint beyond the margin, else -1."""
        # Common case first: every target within its limits (clipping changes nothing, so nothing is beyond the
        # margin either); any other case (a clamp, a trip, NaN) takes the full path below.
        clip(target, self.lower, self.upper, out=self._clipped)
        np.not_equal(self._clipped, target, out=self._below)
        if not any_true(self._below):
            np.copyto(out, self._clipped)
            return -1
        np.less(target, self.trip_lower, out=self._below)
        np.greater(target, self.trip_upper, out=self._above)
        np.logical_or(self._below, self._above, out=self._below)
        if any_true(self._below):
            return int(np.flatnonzero(self._below)[0])
        np.less(target, self.lower, out=self._below)
        np.greater(target, self.upper, out=self._above)
        np.logical_or(self._below, self._above, out=self._below)
        if any_true(self._below):
            self.counts += self._below
            self.total += int(np.count_nonzero(self._below))
        clip(target, self.lower, self.upper, out=out)
        return -1


class RampIn:
    """Blend from a start pose to moving targets over `duration_s`, never faster than the per-joint caps.

    Each tick: desired = start + alpha * (target - start) with alpha = elapsed / duration (capped at 1);
    the command moves from the previous command towards `desired` by at most cap * period per joint.
    Done once alpha reached 1 and every joint is within `tolerance` (or one capped step) of its target: a
    policy's targets move every tick, so "exactly there" may never happen at high rates.
    """

    def __init__(self, velocity_cap: np.ndarray, duration_s: float, period_s: float, tolerance: float = 0.0) -> None:
        self.duration_s = duration_s
        self.max_step = np.asarray(velocity_cap, dtype=np.float64) * period_s
        self._min_step = -self.max_step
        self._done_within = np.maximum(self.max_step, tolerance) + 1e-12
        n = len(self.max_step)
        self.start = np.zeros(n)
        self._desired = np.zeros(n)
        self._step = np.zeros(n)
        self.started_s = 0.0

    def begin(self, measured_position: np.ndarray, now_s: float) -> None:
        np.copyto(self.start, measured_position)
        self.started_s = now_s

    def apply(self, now_s: float, target: np.ndarray, previous: np.ndarray, out: np.ndarray) -> bool:
        """Write the next ramp command into `out` (may alias `previous`); True once the ramp is complete."""
        alpha = 1.0 if self.duration_s <= 0 else min(max((now_s - self.started_s) / self.duration_s, 0.0), 1.0)
        np.subtract(target, self.start, out=self._desired)
        self._desired *= alpha
        self._desired += self.start
        np.subtract(self._desired, previous, out=self._step)
        clip(self._step, self._min_step, self.max_step, out=self._step)
        np.add(previous, self._step, out=out)
        if alpha < 1.0:
            return False
        np.subtract(target, out, out=self._step)
        np.abs(self._step, out=self._step)
        return bool((self._step <= self._done_within).all())
