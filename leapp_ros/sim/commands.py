"""Decode the deploy node's joint command messages into checked joint targets for SimRobot (ROS-free)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from leapp_ros.errors import ConfigurationError
from leapp_ros.message_types import FLOAT64_MULTI_ARRAY, JOINT_STATE, JOINT_TRAJECTORY
from leapp_ros.sim.joint_map import JointMap

TARGET_TYPES = (FLOAT64_MULTI_ARRAY, JOINT_TRAJECTORY, JOINT_STATE)


class CommandRejected(ValueError):
    """A command message that must not reach the actuators; the message says why."""


@dataclass(frozen=True)
class JointCommand:
    """Validated targets for some robot joints (``indices`` into the robot order); None = not commanded."""

    indices: np.ndarray
    position: np.ndarray | None
    velocity: np.ndarray | None = None
    effort: np.ndarray | None = None


def _values(raw: Any, count: int, what: str, optional: bool) -> np.ndarray | None:
    arr = np.asarray(raw if raw is not None else [], dtype=float).reshape(-1)
    if arr.size == 0 and optional:
        return None
    if arr.size != count:
        raise CommandRejected(f"{what} has {arr.size} values for {count} joints")
    if not np.all(np.isfinite(arr)):
        raise CommandRejected(f"{what} contains a non-finite value")
    return arr


class CommandDecoder:
    """Turns one message type into JointCommands; names are resolved once per distinct name list."""

    def __init__(self, type_name: str, joints: JointMap, command_joints: Sequence[str] = (),
                 topic: str = "joint targets") -> None:
        if type_name not in TARGET_TYPES:
            raise ConfigurationError(f"target type {type_name!r} is not one of {', '.join(TARGET_TYPES)}")
        self.type_name = type_name
        self.joints = joints
        self.topic = topic
        order = list(command_joints) or list(joints.robot_names)
        self.array_indices = joints.indices(order, f"command_joints (order of {FLOAT64_MULTI_ARRAY} on '{topic}')")
        self._by_names: dict[tuple[str, ...], np.ndarray] = {}

    def _indices(self, names: Sequence[str]) -> np.ndarray:
        key = tuple(str(n) for n in names)
        idx = self._by_names.get(key)
        if idx is None:
            if not key:
                raise CommandRejected("the message names no joints")
            try:
                idx = self.joints.indices(key, f"{self.type_name} on '{self.topic}'")
            except ConfigurationError as exc:
                raise CommandRejected(str(exc)) from None
            if len(self._by_names) < 64:  # bounded cache: a misbehaving publisher cannot grow it
                self._by_names[key] = idx
        return idx

    def decode(self, msg: Any) -> JointCommand:
        """Validate ``msg``; raise CommandRejected (nothing applied) when it is unusable."""
        if self.type_name == FLOAT64_MULTI_ARRAY:
            idx = self.array_indices
            return JointCommand(idx, _values(msg.data, len(idx), "data", optional=False))
        if self.type_name == JOINT_TRAJECTORY:
            idx = self._indices(msg.joint_names)
            if len(msg.points) != 1:
                raise CommandRejected(f"expected exactly one trajectory point, got {len(msg.points)}")
            point = msg.points[0]
            position = _values(point.positions, len(idx), "points[0].positions", optional=True)
            velocity = _values(point.velocities, len(idx), "points[0].velocities", optional=True)
            effort = _values(point.effort, len(idx), "points[0].effort", optional=True)
        else:
            idx = self._indices(msg.name)
            position = _values(msg.position, len(idx), "position", optional=True)
            velocity = _values(msg.velocity, len(idx), "velocity", optional=True)
            effort = _values(msg.effort, len(idx), "effort", optional=True)
        if position is None and velocity is None and effort is None:
            raise CommandRejected("the message carries no position, velocity or effort values")
        return JointCommand(idx, position, velocity, effort)

    def decode_gains(self, msg: Any, what: str) -> np.ndarray:
        """A Float64MultiArray of kp or kd in ``command_joints`` order -> values for those joints."""
        values = _values(msg.data, len(self.array_indices), f"{what} data", optional=False)
        assert values is not None
        if np.any(values < 0.0):
            raise CommandRejected(f"{what} data contains a negative gain")
        return values
