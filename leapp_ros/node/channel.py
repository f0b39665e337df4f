"""One command channel: a joint target output, its safety supervisor, its message encoder and publishers.
Every actuator publication of the node goes through `CommandChannel.end`, the immediate stop paths
(`estop_now`, `disable_now`, `fault_now`) or the shutdown command, all under one publish lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from leapp_ros.binding import BindingPlan, MessageEncoder, Role, TargetOutput
from leapp_ros.binding.outputs import GainOutput
from leapp_ros.errors import ConfigurationError
from leapp_ros.node import parameters as P
from leapp_ros.safety import (
    Cause,
    CommandMode,
    PolicyAction,
    SafetyCommand,
    SafetySupervisor,
    WatchedInput,
    build_supervisor,
)
from leapp_ros.transport import qos_profile
from leapp_ros.transport.base import Transport

all_true = np.logical_and.reduce  # not ndarray.all(): its Python wrapper costs more than the reduction


@dataclass
class _Measured:
    """Gathers measured joint values in the command joint order from an engine-input array."""

    source: np.ndarray  # flat view of the engine input (port dtype)
    index: np.ndarray
    scratch: np.ndarray  # port dtype
    values: np.ndarray  # float64, command order

    def refresh(self) -> np.ndarray:
        self.source.take(self.index, out=self.scratch)  # the method: np.take's Python wrapper costs more
        np.copyto(self.values, self.scratch)
        return self.values


def _measured(plan: BindingPlan, role: Role, joints: tuple[str, ...]) -> _Measured | None:
    # held joints: a measured-only whole-robot input covers every commanded joint (binding/plan.py)
    binding = next((b for b in plan.inputs.bindings if b.role is role and set(joints) <= set(b.elements)), None)
    if binding is None:
        return None
    source = plan.inputs.array(binding.key).reshape(-1)
    index = np.array([binding.elements.index(j) for j in joints], np.intp)
    return _Measured(source, index, np.zeros(len(joints), source.dtype), np.zeros(len(joints)))


class CommandChannel:
    def __init__(self, target: TargetOutput, supervisor: SafetySupervisor, encoder: MessageEncoder, publisher: Any,
                 gains: list[tuple[GainOutput, MessageEncoder, Any, bool]], position: _Measured,
                 velocity: _Measured | None) -> None:
        self.target = target
        self.supervisor = supervisor
        self.encoder = encoder
        self.publisher = publisher
        self.gains = gains  # (gain, encoder, publisher, same joints as the target: filtered by safety)
        self.position = position
        self.velocity = velocity
        self._kp = next((g.values for g, _, _, same in gains if same and g.role is Role.KP), None)
        self._kd = next((g.values for g, _, _, same in gains if same and g.role is Role.KD), None)
        self._published_gains = {id(g): None for g, *_ in gains}  # last published values of latched gains
        self._same = {id(g): np.zeros(len(g.joints), dtype=bool) for g, *_ in gains}  # compare without allocating
        # Gains of joint subsets bypass the supervisor's command: they pass the same checks as kp/kd each tick.
        self._gain_checks = [(g.role.value, g.values, supervisor.gain_maxima(g.role.value, g.joints), g.joints)
                             for g, _, _, same in gains if not same]
        self._publish_lock = threading.Lock()  # end_tick + publish and every immediate stop are atomic, in order
        self._closed = False  # after the shutdown command nothing more is published
        self.tick_started_s: float | None = None  # monotonic start of the tick in progress (inference watchdog)

    @classmethod
    def create(cls, target: TargetOutput, plan: BindingPlan, rate_hz: float, params: Mapping[str, Any],
               transport: Transport) -> CommandChannel:
        if target.role is not Role.TARGET_JOINT_POSITION:
            raise ConfigurationError(f"output port '{target.port.name}' is a {target.role.value} target; the safety "
                                     "supervisor (ramp-in, hold, limits) handles joint position targets only")
        position = _measured(plan, Role.JOINT_POSITION, target.joints)
        if position is None:
            raise ConfigurationError(f"output port '{target.port.name}' commands joints "
                                     f"{list(target.joints)[:6]}... but the bundle has no joint-position input "
                                     "holding all of them: the safety layer needs their measured positions")
        # Robot state goes stale; commands do not: a held one (a target pose) stays valid until replaced and a
        # timed one (a velocity) falls back to zero after its timeout (in the ledger). Neither is a stale trip.
        watched = [WatchedInput(b.port.name, b.required and not b.role.is_command) for b in plan.inputs.bindings]
        safety = P.family(params, "safety.")
        if not target.gains:
            safety.setdefault("command_interface", "position")
        limits: dict[str, dict[str, Any]] = {}
        for key, value in P.family(params, "joint_limits.").items():
            joint, _, attribute = key.rpartition(".")
            limits.setdefault(joint, {})[attribute] = value
        supervisor = build_supervisor(target.joints, rate_hz, watched, safety, ledger=plan.inputs,
                                      urdf=str(params["robot_description"]) or None,
                                      urdf_file=str(params["urdf_file"]) or None, joint_limits=limits or None)
        new_message = transport.new_message
        encoder = MessageEncoder(target.type_name, target.joints, target.field, new_message,
                                 float(params["trajectory_time_from_start_s"]) or 1.0 / rate_hz)
        publisher = transport.create_publisher(target.topic, target.type_name, qos_profile(target.qos))
        gains = []
        for gain in target.gains:
            gain_encoder = MessageEncoder(gain.type_name, gain.joints, "position", new_message)
            gain_publisher = transport.create_publisher(gain.topic, gain.type_name, qos_profile(gain.qos))
            gains.append((gain, gain_encoder, gain_publisher, gain.joints == target.joints))
        for gain in target.gains:
            if gain.constant:  # known since the warm-up: a bad constant gain is refused before anything runs
                fault = supervisor.gain_fault(gain.role.value, gain.values,
                                              supervisor.gain_maxima(gain.role.value, gain.joints), gain.joints)
                if fault is not None:
                    raise ConfigurationError(f"output port '{gain.port.name}' (constant): {fault[1]}")
        return cls(target, supervisor, encoder, publisher, gains, position,
                   _measured(plan, Role.JOINT_VELOCITY, target.joints))

    def begin(self, now_s: float, deadline_missed: bool) -> PolicyAction:
        velocity = self.velocity.refresh() if self.velocity is not None else None
        action = self.supervisor.begin_tick(now_s, self.position.refresh(), velocity, deadline_missed)
        self.tick_started_s = time.monotonic()
        return action

    def end(self, ran: bool, now_ns: int, fault: tuple[Cause, str] | None = None) -> None:
        """Filter this tick's policy output through safety and publish what it allows (maybe nothing).

        `fault`: why the policy produced nothing this tick (an engine error), held with that cause.
        """
        started, self.tick_started_s = self.tick_started_s, None
        elapsed = time.monotonic() - started if started is not None else 0.0
        if ran and elapsed > self.supervisor.inference_budget_s:
            ran, fault = False, (Cause.INFERENCE_OVERRUN, f"the tick took {elapsed * 1e3:.0f} ms, budget "
                                                          f"{self.supervisor.inference_budget_s * 1e3:.0f} ms")
        with self._publish_lock:
            if self._closed:
                return
            command = self.supervisor.end_tick(self.target.values if ran else None, self._kp if ran else None,
                                               self._kd if ran else None, self._gain_checks if ran else (), fault)
            if command is None:
                return
            self._publish(command, now_ns)
            if command.mode in (CommandMode.POLICY, CommandMode.RAMP):  # the policy's output passed every check
                for gain, encoder, publisher, same in self.gains:
                    if not same and not gain.constant:  # time-varying gains of a joint subset: checked above
                        publisher.publish(encoder.encode(gain.values, now_ns))

    # ------------------------------------------------------------------ immediate stops (any thread)
    def estop_now(self, detail: str, now_ns: int) -> None:
        """ESTOP now and publish its command from the calling thread (not the tick's)."""
        with self._publish_lock:
            self._publish_stop(self.supervisor.estop(detail), now_ns)

    def disable_now(self, detail: str, now_ns: int) -> None:
        with self._publish_lock:
            self._publish_stop(self.supervisor.disable(detail), now_ns)

    def fault_now(self, cause: Cause, detail: str, now_ns: int) -> None:
        """HOLD now (inference watchdog) and publish the stopped state's command."""
        with self._publish_lock:
            self._publish_stop(self.supervisor.fault_now(cause, detail), now_ns)

    def _publish_stop(self, command: SafetyCommand | None, now_ns: int) -> None:
        if command is not None and not self._closed:
            self._publish(command, now_ns)

    def _publish(self, command: SafetyCommand, now_ns: int) -> None:
        self.publisher.publish(self.encoder.encode(command.position, now_ns))
        if not command.has_gains:
            return
        for gain, encoder, publisher, same in self.gains:
            if not same:
                continue
            values = command.kp if gain.role is Role.KP else command.kd
            last = self._published_gains[id(gain)]
            if gain.constant and last is not None:
                same_values = self._same[id(gain)]
                np.equal(last, values, out=same_values)
                if all_true(same_values):
                    continue  # latched and unchanged: late joiners get it from the transient-local history
            publisher.publish(encoder.encode(values, now_ns))
            if gain.constant:
                if last is None:
                    self._published_gains[id(gain)] = last = values.copy()
                np.copyto(last, values)

    def publish_constant_gains(self, now_ns: int) -> None:
        """At activation: the policy's constant gains of joint subsets (not filtered: they command nothing alone)."""
        for gain, encoder, publisher, same in self.gains:
            if not same and gain.constant:
                publisher.publish(encoder.encode(gain.values, now_ns))

    def publish_shutdown_command(self, now_ns: int) -> None:
        """The safe command once (even while a tick is blocked in inference); nothing is published after it."""
        with self._publish_lock:
            if self._closed:
                return
            command = self.supervisor.shutdown()
            if command is not None:
                self._publish(command, now_ns)
            self._closed = True

    def close(self) -> None:
        for endpoint in (self.publisher, *(p for _, _, p, _ in self.gains)):
            close = getattr(endpoint, "close", None)
            if close is not None:
                close()
