"""The SafetySupervisor: the state machine the deploy node calls on every tick; every actuator command passes it.

Usage (the node's tick; see docs/safety.md for the states and triggers)::

    action = supervisor.begin_tick(now_s, measured_position, measured_velocity, deadline_missed)
    targets = kp = kd = None
    if action is not PolicyAction.SKIP:
        if action is PolicyAction.RESET_AND_RUN:
            engine.reset()                      # feedback state from initial values on every (re)activation
        outputs = engine.run(inputs)            # on an exception leave targets None: the supervisor HOLDs
        targets, kp, kd = ...                   # in the command joint order
    command = supervisor.end_tick(targets, kp, kd)    # or end_tick(None, fault=(Cause.ENGINE_FAULT, why))
    if command is not None:
        publish(command.position, command.kp, command.kd)

`estop()`, `disable()`, `release_estop()` and `fault_now()` may be called from any thread and act at once
(under the state lock): they return the safe command to publish right away, and a tick that began before
them (its inference still running) can no longer publish the policy's output (the generation check in
`end_tick`). `enable()` posts a request the next `begin_tick` applies (it needs fresh inputs). The caller
serializes publishing: publish what `end_tick` and these return under one lock, in call order.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from leapp_ros import diagnostic_keys as K
from leapp_ros.errors import ConfigurationError
from leapp_ros.safety.config import SafetyConfig, per_joint
from leapp_ros.safety.filters import (
    CommandMode,
    LimitClamp,
    RampIn,
    SafetyCommand,
    any_true,
    clip,
    first_non_finite,
)
from leapp_ros.safety.limits import JointLimits
from leapp_ros.safety.states import LOG, RECOVERABLE, Cause, SafetyState, Transition, TransitionLog
from leapp_ros.safety.watchdog import (
    DeadlineBurstDetector,
    InputLedger,
    InputWatchdog,
    NothingArrived,
    burst_sizes,
    stale_limit_s,
)

RUNNING = (SafetyState.RAMP_IN, SafetyState.ACTIVE)
_min = np.minimum.reduce
_all = np.logical_and.reduce
MIN_INFERENCE_BUDGET_S = 0.05  # the inference budget never goes below this, whatever the rate
TIMING_FAULTS = (Cause.DEADLINE_BURST, Cause.INFERENCE_OVERRUN)  # recover once deadlines are kept; the Nth latches
GainCheck = tuple[str, np.ndarray, np.ndarray, Sequence[str]]  # (kp|kd, values, maxima, joint names)
ENABLEABLE = (SafetyState.INACTIVE, SafetyState.HOLD, SafetyState.DAMP, SafetyState.ESTOP)


class PolicyAction(str, Enum):
    """What the node does with the engine on this tick."""

    SKIP = "skip"
    RUN = "run"
    RESET_AND_RUN = "reset_and_run"


@dataclass(frozen=True)
class WatchedInput:
    """An input the watchdog judges (same order as the ledger's): required ones trip HOLD when stale."""

    name: str
    required: bool = True


class SafetySupervisor:
    """INACTIVE -> RAMP_IN -> ACTIVE -> HOLD / DAMP -> ESTOP, with causes, on preallocated buffers."""

    def __init__(self, joint_names: Sequence[str], limits: JointLimits, rate_hz: float,
                 inputs: Sequence[WatchedInput], config: SafetyConfig | None = None, *,
                 ledger: InputLedger | None = None) -> None:
        self.config = config = config or SafetyConfig()
        self.joint_names = tuple(joint_names)
        if limits.names != self.joint_names:
            raise ConfigurationError(f"joint limits are for {list(limits.names)}, the command joints are "
                                     f"{list(self.joint_names)}")
        if not (isinstance(rate_hz, (int, float)) and math.isfinite(rate_hz) and rate_hz > 0):
            raise ConfigurationError(f"the control rate must be a positive number of Hz, got {rate_hz!r}")
        n = len(self.joint_names)
        self.limits = limits
        self.period_s = 1.0 / rate_hz
        self.report: list[str] = []  # configure-time findings, for the node to log and show in diagnostics
        unlimited = [j.name for j in limits.joints if not (j.has_position_limits or j.continuous)]
        if unlimited and not config.allow_no_joint_limits:
            raise ConfigurationError(
                f"commanded joints {unlimited[:8]}{'...' if len(unlimited) > 8 else ''} have no position limits "
                "(give robot_description, urdf_file or joint_limits.<joint>.lower/upper), or set "
                "safety.allow_no_joint_limits: true to run with only the per-tick step bound (safety.max_step_rad)")
        if unlimited:
            self.report.append(f"safety.allow_no_joint_limits: joints {unlimited[:8]} have no position limits; their "
                               f"targets are only capped to the measured position +- {config.max_step_rad}")
        if not config.has_gains:
            self.report.append("command interface is position-only: DAMP falls back to HOLD at the measured pose")
            if config.inactive_command == "damp":
                self.report.append("inactive_command 'damp' needs gains; INACTIVE publishes nothing")
        cap = np.minimum(per_joint(config.ramp_in_velocity_cap, self.joint_names, "ramp_in_velocity_cap"),
                         limits.velocity)
        self._damping_kd = np.array(per_joint(config.damping_kd, self.joint_names, "damping_kd"))
        self._hold_kp = np.array(per_joint(config.hold_kp, self.joint_names, "hold_kp"))
        self._hold_kd = np.array(per_joint(config.hold_kd, self.joint_names, "hold_kd"))
        self._max_kp = self.gain_maxima("kp", self.joint_names)
        self._max_kd = self.gain_maxima("kd", self.joint_names)
        for what, gains, maxima in (("damping_kd", self._damping_kd, self._max_kd),
                                    ("hold_kp", self._hold_kp, self._max_kp), ("hold_kd", self._hold_kd, self._max_kd)):
            if (gains > maxima).any():
                raise ConfigurationError(f"safety parameter '{what}' is above safety.max_{what[-2:]}")
        self.inference_budget_s = max(config.inference_budget_periods * self.period_s, MIN_INFERENCE_BUDGET_S)
        self._overspeed_limit = limits.velocity * config.velocity_limit_scale
        self.watchdog = InputWatchdog([i.name for i in inputs], [i.required for i in inputs],
                                      stale_limit_s(self.period_s, config.stale_periods, config.stale_floor_ms / 1e3),
                                      ledger if ledger is not None else NothingArrived(len(inputs)))
        self.deadlines = DeadlineBurstDetector(*burst_sizes(config.deadline_burst, config.deadline_window, rate_hz))
        # A burst HOLD recovers after this many ticks of healthy timing; the Nth burst since enable latches.
        self._timing_recover_ticks = max(1, math.ceil(config.deadline_recover_s * rate_hz))
        self._timing_good = 0
        self.bursts = 0  # deadline bursts since the last explicit enable
        self._burst_latched = False
        self.clamp = LimitClamp(limits, config.limit_margin)
        self.ramp = RampIn(cap, config.ramp_in_duration_s, self.period_s, config.ramp_in_tolerance)
        self.log = TransitionLog()
        self.command = SafetyCommand(self.joint_names, config.has_gains)

        self.state = SafetyState.INACTIVE
        self.cause: Cause | None = None
        self.detail = "not enabled"
        self.now_s = -math.inf
        self.ticks = 0
        self.suppressed_non_finite = 0  # commands withheld because they were not finite (should stay 0)
        self._measured = np.zeros(n)
        self._have_measured = False
        self._target = np.zeros(n)  # clamped policy targets of this tick
        self._last = np.zeros(n)  # the last published running command (ramp start / HOLD source)
        self._last_kp, self._last_kd = self._hold_kp.copy(), self._hold_kd.copy()
        self._have_last = False
        self._hold = np.zeros(n)  # what HOLD / DAMP / ESTOP command, captured on entry
        self._have_hold = False
        self._speed = np.zeros(n)
        self._over = np.zeros(n, dtype=bool)
        self._gain_headroom: dict[int, np.ndarray] = {}  # by vector length: maxima - values, per check
        self._max_step = config.max_step_rad
        self._step_low, self._step_high = np.zeros(n), np.zeros(n)
        self._stepped = np.zeros(n, dtype=bool)
        self.step_bounded = 0  # targets capped to measured +- max_step_rad
        self._stream_fault: str | None = None  # set by the node (e.g. a second publisher on a state topic)
        # Serializes the tick's begin/end with the immediate paths (e-stop, disable, faults from other threads);
        # never held during inference. `generation` moves on every immediate stop: a tick that began before it
        # cannot publish its output.
        self._state_lock = threading.RLock()
        self.generation = 0
        self._tick_generation = 0
        self._good_ticks = 0
        self._reset_policy = False
        self._waiting_reason: str | None = None
        self._waiting_cause: object = None  # the cause last logged while waiting (one line per cause)
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []  # (kind, detail), applied at the next tick
        self._estop_asserted = False

    def gain_maxima(self, role: str, joints: Sequence[str]) -> np.ndarray:
        """safety.max_kp / max_kd for `joints` (any subset of joint names, e.g. a gain output of a joint subset)."""
        value = self.config.max_kp if role == "kp" else self.config.max_kd
        if not isinstance(value, Mapping):
            return np.full(len(joints), float(value))
        missing = [j for j in joints if j not in value]
        if missing:
            raise ConfigurationError(f"safety parameter 'max_{role}' lacks joints {missing}")
        return np.array([float(value[j]) for j in joints])

    def gain_fault(self, what: str, values: np.ndarray, maxima: np.ndarray,
                   joints: Sequence[str]) -> tuple[Cause, str] | None:
        """Why `values` (a kp or kd vector for `joints`) must not be published, or None."""
        if len(values) != len(joints):
            return Cause.MISSING_OUTPUT, f"{what} has {len(values)} values for {len(joints)} joints"
        if len(values):  # common case first: 0 <= values <= maxima (NaN fails both; an Inf gain fails one)
            headroom = self._gain_headroom.get(len(values))
            if headroom is None:
                headroom = self._gain_headroom[len(values)] = np.zeros(len(values))
            np.subtract(maxima, values, out=headroom)
            if _min(headroom) >= 0 and _min(values) >= 0:
                return None
        j = first_non_finite(values)
        if j >= 0:
            return Cause.NON_FINITE_OUTPUT, f"policy {what} for joint '{joints[j]}' is {values[j]}"
        bad = np.flatnonzero((values < 0) | (values > maxima))
        if len(bad):
            j = int(bad[0])
            return Cause.GAIN_OUT_OF_RANGE, (f"policy {what} for joint '{joints[j]}' is {values[j]:.6g}, allowed "
                                             f"0..{maxima[j]:.6g} (safety.max_{what[-2:]})")
        return None

    # ------------------------------------------------------------------ requests (any thread)
    def enable(self, detail: str = "enable requested") -> None:
        """Posted: the next tick starts RAMP_IN once the inputs are good."""
        self._post("enable", detail)

    def disable(self, detail: str = "disable requested") -> SafetyCommand | None:
        """INACTIVE now (a pending enable is dropped); returns INACTIVE's command to publish now, if any."""
        with self._state_lock:
            with self._lock:
                self._requests.clear()
            self._waiting_reason = None
            if self._estop_asserted:
                LOG.warning("safety disable ignored: the e-stop is asserted")
            elif self.state is not SafetyState.INACTIVE:
                self._transition(SafetyState.INACTIVE, Cause.DISABLE, detail)
            self.generation += 1
            return self._checked(self._fill_stopped(self.command))

    def estop(self, detail: str = "e-stop") -> SafetyCommand | None:
        """ESTOP now (latched; pending requests dropped); returns the e-stop command to publish now, if any."""
        with self._state_lock:
            with self._lock:
                self._requests.clear()
            self._estop_asserted = True
            self._waiting_reason = None
            if self.state is not SafetyState.ESTOP:
                self._fault(SafetyState.ESTOP, Cause.ESTOP, detail)
            self.generation += 1
            return self._checked(self._fill_stopped(self.command))

    def release_estop(self, detail: str = "e-stop released") -> None:
        with self._state_lock:
            if self._estop_asserted:
                self._estop_asserted = False
                LOG.info("safety e-stop released (%s); the machine stays %s until enabled", detail, self.state.value)

    def fault_now(self, cause: Cause, detail: str) -> SafetyCommand | None:
        """HOLD now from another thread (e.g. the inference watchdog while a tick is blocked); returns the stopped
        state's command to publish now (also when already stopped: a periodic keep-alive), or None."""
        with self._state_lock:
            if self.state in RUNNING:
                self._fault(SafetyState.HOLD, cause, *self._timing_fault(cause, detail))
                self.generation += 1
            return self._checked(self._fill_stopped(self.command))

    def _timing_fault(self, cause: Cause, detail: str) -> tuple[str]:
        """An inference overrun counts as a timing fault, like a deadline burst: it recovers once deadlines are
        kept again, and the Nth since the last enable latches (the detail says so)."""
        if cause is not Cause.INFERENCE_OVERRUN:
            return (detail,)
        self.bursts += 1
        self._timing_good = 0
        self._burst_latched = self.bursts >= self.config.deadline_latch_bursts
        return (detail + (f" (timing fault {self.bursts}: latched until enabled)" if self._burst_latched else ""),)

    def set_stream_fault(self, detail: str | None) -> None:
        """A condition of the input streams that holds while it lasts (any thread); None clears it."""
        self._stream_fault = detail

    def _post(self, kind: str, detail: str) -> None:
        with self._lock:
            self._requests.append((kind, detail))

    @property
    def estop_asserted(self) -> bool:
        return self._estop_asserted

    # ------------------------------------------------------------------ the tick
    def begin_tick(self, now_s: float, position: np.ndarray | None, velocity: np.ndarray | None = None,
                   deadline_missed: bool = False) -> PolicyAction:
        """Apply requests and input checks; say whether (and how) the node runs the policy this tick."""
        with self._state_lock:
            self._tick_generation = self.generation
            return self._begin_tick(now_s, position, velocity, deadline_missed)

    def _begin_tick(self, now_s: float, position: np.ndarray | None, velocity: np.ndarray | None,
                    deadline_missed: bool) -> PolicyAction:
        self.ticks += 1
        if now_s < self.now_s:  # the ledger forgets its arrivals itself: inputs count as never received
            self.deadlines.reset()
            if self.state in RUNNING:  # a HOLD keeps its cause: a clock jump must not make a fault recoverable
                self._fault(SafetyState.HOLD, Cause.CLOCK_JUMP,
                            f"clock went back {self.now_s - now_s:.3f} s (sim time reset?)")
        self.now_s = now_s
        self._apply_requests()

        self._have_measured = position is not None and first_non_finite(position) < 0
        if self._have_measured and position is not None:
            np.copyto(self._measured, position)
        fault = self._input_fault(now_s, position, velocity)
        burst = self.deadlines.update(deadline_missed)
        self._timing_good = 0 if burst else self._timing_good + 1
        if fault is None and burst and self.state in RUNNING:
            self.bursts += 1
            self._burst_latched = self.bursts >= self.config.deadline_latch_bursts
            fault = (SafetyState.HOLD, Cause.DEADLINE_BURST,
                     f"{self.deadlines.in_window} missed deadlines in the last {self.deadlines.window} ticks"
                     + (f" (burst {self.bursts}: latched until enabled)" if self._burst_latched else ""))
        if fault is not None and self.state in RUNNING:
            self._fault(*fault)
        elif fault is not None and fault[0] is SafetyState.DAMP and self.state is SafetyState.HOLD:
            self._fault(*fault)  # a joint overspeeding while held: stop fighting it

        healthy = fault is None and self._have_measured
        self._good_ticks = self._good_ticks + 1 if healthy else 0
        if (self.state is SafetyState.HOLD and self.config.auto_recover and self.cause in RECOVERABLE
                and self._good_ticks >= self.config.recover_periods):
            self._start_ramp(Cause.RECOVERED, f"inputs good for {self._good_ticks} ticks after {self.cause.value}")
        elif (self.state is SafetyState.HOLD and self.cause in TIMING_FAULTS and self.config.auto_recover
              and not self._burst_latched and self._timing_good >= self._timing_recover_ticks
              and self._good_ticks >= self.config.recover_periods):
            self._start_ramp(Cause.RECOVERED, f"deadlines kept for {self._timing_good} ticks after "
                                              f"{self.cause.value}")
        if self._waiting_reason is not None and self.state in ENABLEABLE:
            if healthy:
                self._waiting_reason = None
                self.bursts, self._burst_latched = 0, False
                self._start_ramp(Cause.ENABLE, "enabled")
            else:
                reason = fault[2] if fault is not None else "no finite measured joint positions"
                cause = fault[1] if fault is not None else "no_measured_positions"
                if cause != self._waiting_cause:  # by cause: the text carries ages that change every tick
                    LOG.warning("safety enable waiting: %s", reason)
                    self._waiting_cause = cause
                self._waiting_reason = reason
        if self.state not in RUNNING:
            return PolicyAction.SKIP
        if self._reset_policy:
            self._reset_policy = False
            return PolicyAction.RESET_AND_RUN
        return PolicyAction.RUN

    def end_tick(self, targets: np.ndarray | None, kp: np.ndarray | None = None, kd: np.ndarray | None = None,
                 gains: Sequence[GainCheck] = (), fault: tuple[Cause, str] | None = None) -> SafetyCommand | None:
        """Filter the policy's targets (None when it could not run) into the command to publish, or None.

        `gains`: further gain vectors published next to the command (joint subsets) that must pass the same
        checks as kp/kd. `fault`: why the policy produced nothing (engine error, overrun), held with that cause.
        """
        with self._state_lock:
            if self.generation != self._tick_generation:  # stopped while this tick ran: its output is void
                targets = kp = kd = None
                gains, fault = (), None
            return self._end_tick(targets, kp, kd, gains, fault)

    def _end_tick(self, targets: np.ndarray | None, kp: np.ndarray | None, kd: np.ndarray | None,
                  gains: Sequence[GainCheck], fault: tuple[Cause, str] | None) -> SafetyCommand | None:
        cmd = self.command
        if self.state in RUNNING:
            fault = fault or self._output_fault(targets, kp, kd, gains)
            if fault is not None:
                self._fault(SafetyState.HOLD, fault[0], *self._timing_fault(*fault))
        if self.state in RUNNING:
            cmd.kp[:] = self._last_kp if kp is None else kp
            cmd.kd[:] = self._last_kd if kd is None else kd
            if self.state is SafetyState.RAMP_IN:
                done = self.ramp.apply(self.now_s, self._target, self._last, cmd.position)
                cmd.mode = CommandMode.RAMP
                if done:
                    self._transition(SafetyState.ACTIVE, Cause.RAMP_DONE,
                                     f"reached the policy targets after {self.now_s - self.ramp.started_s:.2f} s")
            else:
                np.copyto(cmd.position, self._target)
                cmd.mode = CommandMode.POLICY
            np.copyto(self._last, cmd.position)
            np.copyto(self._last_kp, cmd.kp)
            np.copyto(self._last_kd, cmd.kd)
            self._have_last = True
            return self._checked(cmd)
        return self._checked(self._fill_stopped(cmd))

    def _fill_stopped(self, cmd: SafetyCommand) -> SafetyCommand | None:
        state = self.state
        if state is SafetyState.INACTIVE:
            if self.config.inactive_command != "damp" or not cmd.has_gains:
                return None
            self._capture_hold(prefer_last=False)  # damping around the current measured pose
            return self._damp(cmd)
        if state is SafetyState.ESTOP:
            choice = self.config.estop_command
            if choice == "none":
                return None
            return self._damp(cmd) if choice == "damp" else self._hold_command(cmd)
        if state is SafetyState.DAMP:
            return self._damp(cmd)
        return self._hold_command(cmd)

    def _hold_command(self, cmd: SafetyCommand) -> SafetyCommand | None:
        if not self._have_hold:
            return None
        np.copyto(cmd.position, self._hold)
        cmd.kp[:] = self._last_kp
        cmd.kd[:] = self._last_kd
        cmd.mode = CommandMode.HOLD
        return cmd

    def _damp(self, cmd: SafetyCommand) -> SafetyCommand | None:
        if not cmd.has_gains:
            return self._hold_command(cmd)  # position-only: HOLD at the pose measured on entry
        if not self._have_hold:
            return None  # no pose known at all: we never commanded this robot, so send nothing
        np.copyto(cmd.position, self._hold)
        cmd.kp.fill(0.0)
        np.copyto(cmd.kd, self._damping_kd)
        cmd.mode = CommandMode.DAMP
        return cmd

    def _checked(self, cmd: SafetyCommand | None) -> SafetyCommand | None:
        if cmd is not None and not cmd.is_finite():
            self.suppressed_non_finite += 1  # defensive: every source above is checked already
            return None
        return cmd

    # ------------------------------------------------------------------ shutdown
    def safe_command(self) -> SafetyCommand | None:
        """The configured safe command (ESTOP's), published once at shutdown; None when there is none."""
        with self._state_lock:
            return self._safe_command()

    def _safe_command(self) -> SafetyCommand | None:
        if self.state in RUNNING or not self._have_hold:
            self._capture_hold(prefer_last=True)
        choice = self.config.estop_command
        if choice == "none":
            return None
        cmd = self._damp(self.command) if choice == "damp" else self._hold_command(self.command)
        return self._checked(cmd)

    def shutdown(self, detail: str = "shutdown") -> SafetyCommand | None:
        """Go INACTIVE (cause shutdown) and return the safe command to publish once."""
        with self._state_lock:
            cmd = self._safe_command()
            if self.state is not SafetyState.INACTIVE:
                self._transition(SafetyState.INACTIVE, Cause.SHUTDOWN, detail)
            self.generation += 1
            return cmd

    # ------------------------------------------------------------------ checks
    def _input_fault(self, now_s: float, position: np.ndarray | None,
                     velocity: np.ndarray | None) -> tuple[SafetyState, Cause, str] | None:
        rejection = self.watchdog.new_rejection()  # noticed every tick so old ones never trip later
        if position is not None and not self._have_measured:
            j = first_non_finite(position)
            return SafetyState.HOLD, Cause.NON_FINITE_MEASUREMENT, f"measured position of joint " \
                                                                   f"'{self.joint_names[j]}' is {position[j]}"
        # Common case first: every |velocity| below its limit (NaN and Inf fail it); otherwise the checks below say
        # which joint and why.
        if velocity is not None and not _all(np.less(np.abs(velocity, out=self._speed), self._overspeed_limit,
                                                     out=self._over)):
            j = first_non_finite(velocity)
            if j >= 0:
                return SafetyState.HOLD, Cause.NON_FINITE_MEASUREMENT, \
                    f"measured velocity of joint '{self.joint_names[j]}' is {velocity[j]}"
            np.abs(velocity, out=self._speed)
            over = np.greater(self._speed, self._overspeed_limit, out=self._over)
            if any_true(over):
                j = int(np.flatnonzero(over)[0])
                return SafetyState.DAMP, Cause.JOINT_OVERSPEED, \
                    f"joint '{self.joint_names[j]}' moves at {velocity[j]:.3f}, limit {self._overspeed_limit[j]:.3f}"
        stale = self.watchdog.first_stale()
        if stale >= 0:
            return SafetyState.HOLD, Cause.STALE_INPUT, self.watchdog.describe_stale(stale)
        if rejection is not None:
            return SafetyState.HOLD, Cause.REJECTED_INPUT, f"input '{rejection[0]}' rejected: {rejection[1]}"
        stream_fault = self._stream_fault
        if stream_fault is not None:
            return SafetyState.HOLD, Cause.MULTIPLE_PUBLISHERS, stream_fault
        return None

    def _output_fault(self, targets: np.ndarray | None, kp: np.ndarray | None, kd: np.ndarray | None,
                      gains: Sequence[GainCheck]) -> tuple[Cause, str] | None:
        if targets is None:
            return Cause.MISSING_OUTPUT, "the policy produced no targets this tick"
        if len(targets) != len(self.joint_names):
            return Cause.MISSING_OUTPUT, f"target has {len(targets)} values for {len(self.joint_names)} joints"
        j = first_non_finite(targets)
        if j >= 0:
            return Cause.NON_FINITE_OUTPUT, f"policy target for joint '{self.joint_names[j]}' is {targets[j]}"
        for what, values, maxima, joints in (("kp", kp, self._max_kp, self.joint_names),
                                             ("kd", kd, self._max_kd, self.joint_names), *gains):
            if values is not None:
                fault = self.gain_fault(what, values, maxima, joints)
                if fault is not None:
                    return fault
        j = self.clamp.apply(targets, self._target)
        if j >= 0:
            return Cause.LIMIT_MARGIN, (f"target {targets[j]:.4f} for joint '{self.joint_names[j]}' is beyond its "
                                        f"limits [{self.limits.lower[j]:.4f}, {self.limits.upper[j]:.4f}] by more "
                                        f"than the margin {self.config.limit_margin}")
        self._bound_step()
        return None

    def _bound_step(self) -> None:
        """Cap every target to the measured position +- max_step_rad (the bound that holds without limits)."""
        if not self._have_measured:
            return
        np.subtract(self._measured, self._max_step, out=self._step_low)
        np.add(self._measured, self._max_step, out=self._step_high)
        np.less(self._target, self._step_low, out=self._stepped)
        capped = int(np.count_nonzero(self._stepped))
        np.greater(self._target, self._step_high, out=self._stepped)
        capped += int(np.count_nonzero(self._stepped))
        if capped:
            self.step_bounded += capped
            clip(self._target, self._step_low, self._step_high, out=self._target)

    # ------------------------------------------------------------------ transitions
    def _apply_requests(self) -> None:
        if not self._requests:  # read without the lock: a request posted now is applied next tick, as if later
            return
        with self._lock:
            if not self._requests:
                return
            requests, self._requests = self._requests, []
        for kind, _detail in requests:
            if kind == "enable":
                if self._estop_asserted:
                    LOG.warning("safety enable refused: the e-stop is asserted (release it first)")
                elif self.state in ENABLEABLE and self._waiting_reason is None:
                    self._waiting_reason = ""  # pending: starts RAMP_IN once the inputs are good
                    self._waiting_cause = None

    def _fault(self, target: SafetyState, cause: Cause, detail: str) -> None:
        """Enter HOLD / DAMP / ESTOP, capturing what it holds: the last safe targets, else the measured pose."""
        if self.state in RUNNING:
            self._capture_hold(prefer_last=target is SafetyState.HOLD)
        elif not self._have_hold or self.state is SafetyState.INACTIVE:
            self._capture_hold(prefer_last=False)  # already stopped: keep what is held, if anything
        self._good_ticks = 0
        self._transition(target, cause, detail)

    def _capture_hold(self, prefer_last: bool) -> None:
        source = None
        if prefer_last and self._have_last:
            source = self._last
        elif self._have_measured:
            source = self._measured
        elif self._have_last:
            source = self._last
        if source is not None:
            np.copyto(self._hold, source)
        self._have_hold = source is not None

    def _start_ramp(self, cause: Cause, detail: str) -> None:
        """RAMP_IN from the measured pose (never stale targets), with the policy's feedback state reset."""
        self.ramp.begin(self._measured, self.now_s)
        np.copyto(self._last, self._measured)
        np.copyto(self._target, self._measured)
        self._have_last = False
        self._have_hold = False
        self._reset_policy = True
        self.deadlines.reset()
        self._transition(SafetyState.RAMP_IN, cause, detail)

    def _transition(self, target: SafetyState, cause: Cause, detail: str) -> None:
        transition = Transition(self.now_s, self.state, target, cause, detail)
        self.state, self.cause, self.detail = target, cause, detail
        self.log.record(transition)

    # ------------------------------------------------------------------ reporting
    def state_text(self) -> str:
        """One line for `~/safety_state`: `STATE cause: detail`."""
        cause = self.cause.value if self.cause else "start"
        return f"{self.state.value} {cause}: {self.detail}"

    def diagnostics(self) -> dict[str, str]:
        """Key/values for /diagnostics (allocates: call it at the diagnostics rate, not per tick)."""
        values = {K.SAFETY_STATE: self.state.value, K.SAFETY_CAUSE: self.cause.value if self.cause else "",
                  K.SAFETY_DETAIL: self.detail, K.SAFETY_TRANSITIONS: str(self.log.count),
                  K.ESTOP_ASSERTED: str(self._estop_asserted),
                  K.TARGETS_CLAMPED: str(self.clamp.total),
                  K.TARGETS_STEP_BOUNDED: f"{self.step_bounded} (to measured +- {self._max_step})",
                  K.INFERENCE_BUDGET_MS: f"{self.inference_budget_s * 1e3:.1f}",
                  K.SAFETY_DEADLINE_MISSES: f"{self.deadlines.total_missed} total, "
                                            f"{self.deadlines.in_window} in the last {self.deadlines.window} ticks",
                  K.SAFETY_DEADLINE_BURSTS: f"{self.bursts} since enable "
                                            f"(latch at {self.config.deadline_latch_bursts})",
                  K.SAFETY_STALE_LIMIT_MS: f"{self.watchdog.max_age_s * 1e3:.0f}",
                  K.COMMANDS_WITHHELD: str(self.suppressed_non_finite)}
        for j in np.flatnonzero(self.clamp.counts):
            values[f"clamped {self.joint_names[j]}"] = str(int(self.clamp.counts[j]))
        w = self.watchdog
        for i, name in enumerate(w.names):  # ages from the node's input ledger, at the last tick
            age = w.age(i)
            values[f"input {name}"] = (f"age {age * 1e3:.0f} ms" if math.isfinite(age) else "never received") + \
                (f" (stale after {w.max_age_s * 1e3:.0f} ms)" if w.required[i] else " (optional)")
        for i, line in enumerate(self.report):
            values[f"configure note {i + 1}"] = line
        return values
