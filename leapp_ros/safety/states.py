"""Safety states, transition causes, transition records and the once-per-transition log."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

LOG = logging.getLogger("leapp_ros.safety")


class SafetyState(str, Enum):
    """Where the safety machine is; it runs inside the lifecycle ACTIVE state."""

    INACTIVE = "INACTIVE"  # publishes nothing (or the configured inactive command)
    RAMP_IN = "RAMP_IN"  # blends from the measured pose to the policy's targets
    ACTIVE = "ACTIVE"  # policy targets, clamped to the joint limits
    HOLD = "HOLD"  # holds the last safe targets
    DAMP = "DAMP"  # zero position gain, damping only (HOLD at the measured pose without gains)
    ESTOP = "ESTOP"  # latched; left only by an explicit enable once the e-stop is released


class Cause(str, Enum):
    """Why a transition happened (stable names: they appear in logs, topics and diagnostics)."""

    ENABLE = "enable"
    DISABLE = "disable"
    ESTOP = "estop"
    RAMP_DONE = "ramp_done"
    RECOVERED = "recovered"
    STALE_INPUT = "stale_input"
    REJECTED_INPUT = "rejected_input"  # a message refused by the binding (NaN/Inf, missing joint, bad length)
    NON_FINITE_MEASUREMENT = "non_finite_measurement"
    NON_FINITE_OUTPUT = "non_finite_output"
    MISSING_OUTPUT = "missing_output"  # the policy did not produce targets on a tick it had to
    GAIN_OUT_OF_RANGE = "gain_out_of_range"  # a policy kp/kd below 0 or above safety.max_kp / max_kd
    ENGINE_FAULT = "engine_fault"  # the inference backend raised (any exception)
    INFERENCE_OVERRUN = "inference_overrun"  # a tick ran longer than its inference budget
    # a state topic has more than one publisher (safety.multiple_publishers: hold)
    MULTIPLE_PUBLISHERS = "multiple_publishers"
    LIMIT_MARGIN = "limit_margin"  # a target beyond a position limit by more than the margin
    JOINT_OVERSPEED = "joint_overspeed"  # a measured joint velocity beyond its limit
    DEADLINE_BURST = "deadline_burst"
    CLOCK_JUMP = "clock_jump"
    SHUTDOWN = "shutdown"


# Faults the machine may leave by itself once the inputs are good again (through RAMP_IN, from the
# measured pose, with the policy state reset). Every other fault waits for an explicit enable.
RECOVERABLE = frozenset({Cause.STALE_INPUT, Cause.REJECTED_INPUT, Cause.NON_FINITE_MEASUREMENT, Cause.CLOCK_JUMP})


@dataclass(frozen=True)
class Transition:
    """One state change with its cause and a human-readable detail naming the culprit."""

    time_s: float
    source: SafetyState
    target: SafetyState
    cause: Cause
    detail: str = ""

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.source.value} -> {self.target.value} ({self.cause.value}{detail})"


TransitionListener = Callable[[Transition], None]


class TransitionLog:
    """Keeps the recent transitions, counts them, logs each exactly once and notifies listeners."""

    def __init__(self, keep: int = 256, logger: logging.Logger = LOG) -> None:
        self.recent: deque[Transition] = deque(maxlen=keep)
        self.count = 0
        self.by_cause: dict[Cause, int] = {cause: 0 for cause in Cause}
        self._listeners: list[TransitionListener] = []
        self._logger = logger

    def add_listener(self, listener: TransitionListener) -> None:
        self._listeners.append(listener)

    def record(self, transition: Transition) -> None:
        self.recent.append(transition)
        self.count += 1
        self.by_cause[transition.cause] += 1
        level = logging.INFO if transition.target in (SafetyState.RAMP_IN, SafetyState.ACTIVE,
                                                      SafetyState.INACTIVE) else logging.WARNING
        self._logger.log(level, "safety %s", transition)
        for listener in self._listeners:
            try:
                listener(transition)
            except Exception:  # noqa: BLE001 - a broken listener must not stop the safety machine
                self._logger.exception("safety transition listener failed")

    @property
    def last(self) -> Transition | None:
        return self.recent[-1] if self.recent else None
