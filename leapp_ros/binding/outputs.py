"""Output side of a binding plan: joint targets and kp/kd gains, reordered and encoded into messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leapp_ros.binding.roles import Role
from leapp_ros.bundle import Port
from leapp_ros.message_types import FLOAT64_MULTI_ARRAY, JOINT_TRAJECTORY, JOINT_TRAJECTORY_POINT

MessageFactory = Callable[..., Any]  # new_message(type_name, **fields)

FIELD_OF_ROLE = {Role.TARGET_JOINT_POSITION: "position", Role.TARGET_JOINT_VELOCITY: "velocity",
                 Role.TARGET_JOINT_EFFORT: "effort"}
_TRAJECTORY_FIELD = {"position": "positions", "velocity": "velocities", "effort": "effort"}


@dataclass
class GainOutput:
    """A kp or kd output, published as Float64MultiArray next to its targets."""

    port: Port
    role: Role
    found_by: str
    topic: str
    joints: tuple[str, ...]  # published order
    index: np.ndarray  # into the port's flat output
    type_name: str = FLOAT64_MULTI_ARRAY
    constant: bool | None = None  # decided by the node at warm-up; constant gains are latched
    slots: np.ndarray | None = None  # where the port's values go in `values` when held joints fill the rest
    values: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.values = np.zeros(len(self.joints), dtype=np.float64)

    @property
    def qos(self) -> str:
        return "latched" if self.constant else "default"


@dataclass
class TargetOutput:
    """A joint target output (position / velocity / effort) and its message encoding."""

    port: Port
    role: Role
    found_by: str
    topic: str
    type_name: str
    qos: str
    joints: tuple[str, ...]  # published order
    index: np.ndarray  # into the port's flat output
    gains: list[GainOutput] = field(default_factory=list)
    slots: np.ndarray | None = None  # where the port's values go in `values` when held joints fill the rest
    held: tuple[Any, ...] = ()  # HeldJoint entries (binding/held.py) published with the policy's joints
    values: np.ndarray = field(init=False)  # float64, published order; what safety filters and we publish

    def __post_init__(self) -> None:
        self.values = np.zeros(len(self.joints), dtype=np.float64)

    @property
    def field(self) -> str:
        return FIELD_OF_ROLE[self.role]


class OutputPlan:
    def __init__(self, targets: list[TargetOutput], gains: list[GainOutput], ignored: list[tuple[Port, str]]):
        self.targets = targets
        self.gains = gains
        self.ignored = ignored
        # (key, index, scratch in the port's dtype, values in float64): np.take needs an `out` of the source dtype
        outputs: list[TargetOutput | GainOutput] = [*targets, *gains]
        self._gathers = [(o.port.key, o.index, np.zeros(len(o.index), o.port.dtype), o.values, o.slots)
                         for o in outputs]

    def gather(self, outputs: Mapping[str, np.ndarray]) -> None:
        """Reorder the engine's outputs into each binding's `values` (published joint order); held joints'
        entries keep their fixed values."""
        for key, index, scratch, values, slots in self._gathers:
            outputs[key].take(index, out=scratch)  # flat index; the method skips np.take's Python wrapper
            if slots is None:
                np.copyto(values, scratch)
            else:
                values[slots] = scratch


class MessageEncoder:
    """Builds one reusable message for a joint-vector topic and refreshes it in place each tick."""

    def __init__(self, type_name: str, joints: tuple[str, ...], field_name: str, new_message: MessageFactory,
                 time_from_start_s: float = 0.0) -> None:
        self.type_name = type_name
        self._field = field_name
        if type_name == FLOAT64_MULTI_ARRAY:
            self.message = new_message(type_name)
        elif type_name == JOINT_TRAJECTORY:
            sec = int(time_from_start_s)
            duration = {"sec": sec, "nanosec": int(round((time_from_start_s - sec) * 1e9))}
            point = new_message(JOINT_TRAJECTORY_POINT)
            point.time_from_start.sec, point.time_from_start.nanosec = duration["sec"], duration["nanosec"]
            self._point = point
            self.message = new_message(type_name, joint_names=list(joints), points=[point])
        else:  # sensor_msgs/msg/JointState
            self.message = new_message(type_name, name=list(joints))

    def encode(self, values: np.ndarray, stamp_ns: int) -> Any:
        msg = self.message
        if self.type_name == FLOAT64_MULTI_ARRAY:
            msg.data = values
        elif self.type_name == JOINT_TRAJECTORY:
            setattr(self._point, _TRAJECTORY_FIELD[self._field], values)
        else:
            setattr(msg, self._field, values)
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        return msg
