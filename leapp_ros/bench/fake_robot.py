"""Stand-in robots for benchmarks and tests: needs no simulator, talks through any Transport.

- `FakeRobot` publishes joint states, IMU, odometry, a velocity command (and /clock) at a fixed rate, tracks the
  commanded joint positions with a first-order lag, records every command and injects faults on request (the DDS
  fault tests and `bench --soak`).
- `topic_messages` builds one valid message per input topic of a bundle's binding plan (`bench --e2e`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leapp_ros.binding import BindingPlan
from leapp_ros.errors import LeappRosError
from leapp_ros.message_types import (
    CLOCK,
    FLOAT64_MULTI_ARRAY,
    HEADER,
    IMU,
    JOINT_STATE,
    ODOMETRY,
    POSE_STAMPED,
    QUATERNION,
    TIME,
    TWIST,
    VECTOR3,
)
from leapp_ros.transport.base import DEFAULT, SENSOR_DATA, QosProfile, Transport

# where each supported state/command message type keeps its orientation (identity is the only valid default)
ORIENTATION = {IMU: ("orientation",), ODOMETRY: ("pose", "pose", "orientation"), POSE_STAMPED: ("pose", "orientation")}


@dataclass
class Faults:
    """Switches read on every publish cycle (set them from any thread)."""

    joint_states: bool = True  # False: the joint-state driver is silent (stale input)
    imu: bool = True
    odom: bool = True
    cmd_vel: bool = True
    drop_joint: str | None = None  # omit this joint from JointState
    nan_joint: str | None = None  # publish NaN as this joint's position
    partial: bool = False  # JointState with positions but no velocities
    stamps: str = "normal"  # "normal" | "duplicate" (same stamp again) | "reverse" (going back in time)
    clock_offset_s: float = 0.0  # added to the header stamps and /clock (negative: a sim-time reset)
    velocity_bias: float = 0.0  # added to every published joint velocity (overspeed)


@dataclass
class Command:
    """One actuator command as the robot received it."""

    received_ns: int
    position: np.ndarray
    kp: np.ndarray | None = None
    kd: np.ndarray | None = None


@dataclass
class Received:
    """Commands received on the actuator topics (bounded: `keep` most recent) and counters."""

    keep: int = 100_000
    commands: list[Command] = field(default_factory=list)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    gaps_ns: np.ndarray = field(default_factory=lambda: np.zeros(1 << 20, dtype=np.int64))  # ring of inter-arrivals
    non_finite: int = 0  # commands holding NaN/Inf (must stay 0)

    def gaps(self) -> np.ndarray:
        """Inter-arrival times of the recorded commands (ns), oldest first within the ring."""
        with self.lock:
            n = max(self.count - 1, 0)
            return self.gaps_ns[:n].copy() if n <= len(self.gaps_ns) else self.gaps_ns.copy()

    def since(self, t_ns: int) -> list[Command]:
        with self.lock:
            return [c for c in self.commands if c.received_ns >= t_ns]

    def last(self) -> Command | None:
        with self.lock:
            return self.commands[-1] if self.commands else None


class FakeRobot:
    """Joints track the commanded positions with a first-order lag; everything is published at `rate_hz`."""

    def __init__(self, transport: Transport, joint_names: Sequence[str], rate_hz: float, *,
                 initial_position: Sequence[float] | None = None, topics: dict[str, str] | None = None,
                 time_constant_s: float = 0.05, max_velocity: float = 5.0, publish_clock: bool = False,
                 cmd_vel: Sequence[float] = (0.0, 0.0, 0.0),
                 keep: int = 100_000) -> None:
        self.transport = transport
        self.joint_names = list(joint_names)
        self.period_s = 1.0 / rate_hz
        self.time_constant_s = time_constant_s
        self.max_velocity = max_velocity  # actuators cannot move faster than this (rad/s)
        self.faults = Faults()
        self.received = Received(keep=keep)
        self.position = np.array(initial_position if initial_position is not None else np.zeros(len(joint_names)),
                                 dtype=np.float64)
        self.velocity = np.zeros(len(joint_names))
        self.cmd_vel = tuple(cmd_vel)
        self.published = 0
        t = {"joint_states": "/joint_states", "imu": "/imu/data", "odom": "/odom", "cmd_vel": "/cmd_vel",
             "commands": "/joint_commands", "kp": "/joint_commands/kp", "kd": "/joint_commands/kd", **(topics or {})}
        self.topics = t
        self._pubs = {"joint_states": transport.create_publisher(t["joint_states"], JOINT_STATE, SENSOR_DATA),
                      "imu": transport.create_publisher(t["imu"], IMU, SENSOR_DATA),
                      "odom": transport.create_publisher(t["odom"], ODOMETRY, SENSOR_DATA),
                      "cmd_vel": transport.create_publisher(t["cmd_vel"], TWIST, DEFAULT)}
        if publish_clock:
            self._pubs["clock"] = transport.create_publisher("/clock", CLOCK, QosProfile("best_effort", "volatile", 1))
        self._gains: dict[str, np.ndarray] = {}
        self._target: np.ndarray | None = None
        transport.create_subscription(t["commands"], FLOAT64_MULTI_ARRAY, DEFAULT, self._on_command)
        transport.create_subscription(t["kp"], FLOAT64_MULTI_ARRAY, DEFAULT, lambda m: self._on_gain("kp", m))
        transport.create_subscription(t["kd"], FLOAT64_MULTI_ARRAY, DEFAULT, lambda m: self._on_gain("kd", m))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_stamp_ns = 0
        self._start_wall_ns = time.time_ns()

    # ------------------------------------------------------------------ commands in
    def _on_gain(self, which: str, msg: Any) -> None:
        self._gains[which] = np.array(msg.data, dtype=np.float64)

    def _on_command(self, msg: Any) -> None:
        position = np.array(msg.data, dtype=np.float64)
        command = Command(time.monotonic_ns(), position, self._gains.get("kp"), self._gains.get("kd"))
        with self.received.lock:
            r = self.received
            if r.commands:
                r.gaps_ns[(r.count - 1) % len(r.gaps_ns)] = command.received_ns - r.commands[-1].received_ns
            r.non_finite += int(not np.isfinite(position).all())
            self.received.commands.append(command)
            self.received.count += 1
            if len(self.received.commands) > self.received.keep:
                del self.received.commands[: len(self.received.commands) - self.received.keep]
        if len(position) == len(self.position) and np.isfinite(position).all():
            self._target = position

    def gain(self, which: str) -> np.ndarray | None:
        """The last kp or kd received."""
        return self._gains.get(which)

    # ------------------------------------------------------------------ state out
    def start(self) -> FakeRobot:
        self._thread = threading.Thread(target=self._run, name="fake-robot", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)

    def _run(self) -> None:
        deadline = time.monotonic()
        while not self._stop.is_set():
            deadline += self.period_s
            self.step()
            delay = deadline - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                deadline = time.monotonic()

    def _stamp_ns(self) -> int:
        f = self.faults
        now = time.time_ns() + int(f.clock_offset_s * 1e9)
        if f.stamps == "duplicate" and self._last_stamp_ns:
            return self._last_stamp_ns
        if f.stamps == "reverse" and self._last_stamp_ns:
            return self._last_stamp_ns - int(self.period_s * 1e9)
        return now

    def step(self) -> None:
        """Advance the joints one period towards the last command and publish one set of messages."""
        if self._target is not None:
            alpha = min(1.0, self.period_s / self.time_constant_s)
            step = np.clip(alpha * (self._target - self.position), -self.max_velocity * self.period_s,
                           self.max_velocity * self.period_s)
            new = self.position + step
            self.velocity = (new - self.position) / self.period_s
            self.position = new
        f = self.faults
        stamp_ns = self._stamp_ns()
        self._last_stamp_ns = stamp_ns
        m = self.transport.new_message
        stamp = m(TIME, sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000)
        if "clock" in self._pubs:
            self._pubs["clock"].publish(m(CLOCK, clock=stamp))
        if f.joint_states:
            names = [n for n in self.joint_names if n != f.drop_joint]
            keep = [i for i, n in enumerate(self.joint_names) if n != f.drop_joint]
            position = self.position[keep].copy()
            if f.nan_joint in names:
                position[names.index(f.nan_joint)] = math.nan
            velocity = self.velocity[keep] + f.velocity_bias
            self._pubs["joint_states"].publish(m(
                JOINT_STATE, header=m(HEADER, stamp=stamp, frame_id="base_link"), name=names, position=position,
                velocity=np.zeros(0) if f.partial else velocity, effort=np.zeros(0)))
        if f.imu:
            self._pubs["imu"].publish(m(IMU, header=m(HEADER, stamp=stamp, frame_id="imu_link"),
                                        orientation=m(QUATERNION, x=0.0, y=0.0, z=0.0, w=1.0)))
        if f.odom:
            self._pubs["odom"].publish(m(ODOMETRY, header=m(HEADER, stamp=stamp, frame_id="odom"),
                                         child_frame_id="base_link"))
        if f.cmd_vel:
            x, y, yaw = self.cmd_vel
            self._pubs["cmd_vel"].publish(m(TWIST, linear=m(VECTOR3, x=x, y=y, z=0.0),
                                            angular=m(VECTOR3, x=0.0, y=0.0, z=yaw)))
        self.published += 1



def topic_messages(plan: BindingPlan, new_message: Callable[..., Any], seed: int = 0) -> list[tuple[str, str, Any]]:
    """(topic, type, message) per subscribed topic: joint states name every bound joint with small random
    positions/velocities; vector messages carry an identity orientation and zero rates/commands. The joint-state
    topic comes last so that, in event mode, the node ticks on it with every other input already fresh."""
    rng = np.random.default_rng(seed)
    found = []
    for topic in plan.inputs.topics:
        msg = new_message(topic.type_name)
        if topic.type_name == JOINT_STATE:
            joints = list(dict.fromkeys(j for b in topic.bindings for j in b.elements))
            msg.name = joints
            for field in ("position", "velocity", "effort"):
                setattr(msg, field, np.asarray(rng.uniform(-0.1, 0.1, len(joints)), dtype=np.float64))
        elif topic.type_name in ORIENTATION:
            holder = msg
            for part in ORIENTATION[topic.type_name]:
                holder = getattr(holder, part)
            holder.x, holder.y, holder.z, holder.w = 0.0, 0.0, 0.0, 1.0
        elif not topic.type_name.startswith(TWIST):
            raise LeappRosError(f"bench --e2e does not know how to fake topic '{topic.topic}' "
                                f"[{topic.type_name}]")
        found.append((topic.topic, topic.type_name, msg))
    found.sort(key=lambda item: item[1] == JOINT_STATE)
    if not found or found[-1][1] != JOINT_STATE:
        raise LeappRosError("bench --e2e ticks the node on joint states, but the bundle binds no "
                            "sensor_msgs/msg/JointState input")
    return found


def set_stamp(msg: Any, stamp_ns: int) -> None:
    header = getattr(msg, "header", None)
    if header is not None:
        header.stamp.sec, header.stamp.nanosec = divmod(int(stamp_ns), 1_000_000_000)
