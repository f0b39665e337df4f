"""The sim node's own settings (``node:`` section of a sim YAML, or CLI overrides): topics, rates, frames."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from leapp_ros.errors import ConfigurationError
from leapp_ros.sim.commands import FLOAT64_MULTI_ARRAY, TARGET_TYPES
from leapp_ros.transport.base import QOS_PROFILES


@dataclass(frozen=True)
class SimNodeSettings:
    """Topic names are relative (resolved in the node's namespace) unless they start with ``/`` or ``~/``.

    Attributes:
        joint_states_topic / imu_topic / odom_topic: what a robot driver publishes (sensor-data QoS).
        ee_pose_topic: geometry_msgs/PoseStamped of ``ee_site`` in the base frame ("" = not published).
        publish_clock: publish rosgraph_msgs/Clock on /clock so other nodes can run on ``use_sim_time``.
        targets_topic / targets_type: the deploy node's joint command output (one of the three types).
        command_joints: joint order of Float64MultiArray targets and of ``<targets_topic>/kp`` and ``/kd``.
        gains_qos: QoS of the kp/kd subscriptions ("latched" receives constant gains published earlier).
        state_rate_hz: rate of joint_states / imu / odom / clock (rounded to whole physics steps).
        real_time_factor: 1.0 = real time, 2.0 = twice as fast, 0 = as fast as possible.
        base_frame / odom_frame / imu_frame: frame ids ("" imu_frame = the IMU site's name).
        ee_site: MJCF site whose pose goes on ``ee_pose_topic``.
    """

    joint_states_topic: str = "joint_states"
    imu_topic: str = "imu/data"
    odom_topic: str = "odom"
    ee_pose_topic: str = "~/ee_pose"
    publish_clock: bool = True
    targets_topic: str = "joint_commands"
    targets_type: str = FLOAT64_MULTI_ARRAY
    command_joints: tuple[str, ...] = ()
    gains_qos: str = "latched"
    state_rate_hz: float = 200.0
    real_time_factor: float = 1.0
    base_frame: str = "base_link"
    odom_frame: str = "odom"
    imu_frame: str = ""
    ee_site: str = ""

    def __post_init__(self) -> None:
        if self.targets_type not in TARGET_TYPES:
            raise ConfigurationError(f"node.targets_type {self.targets_type!r} is not one of {', '.join(TARGET_TYPES)}")
        if self.gains_qos not in QOS_PROFILES:
            raise ConfigurationError(f"node.gains_qos {self.gains_qos!r} is not one of {', '.join(QOS_PROFILES)}")
        if not self.state_rate_hz > 0.0:
            raise ConfigurationError(f"node.state_rate_hz must be > 0, got {self.state_rate_hz}")
        if not self.real_time_factor >= 0.0:
            raise ConfigurationError(f"node.real_time_factor must be >= 0 (0 = as fast as possible), "
                                     f"got {self.real_time_factor}")
        for name in ("joint_states_topic", "imu_topic", "odom_topic", "targets_topic"):
            if not getattr(self, name):
                raise ConfigurationError(f"node.{name} must not be empty")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SimNodeSettings:
        """Build from ``node:`` YAML keys; unknown keys are errors naming the key."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigurationError(f"unknown sim node setting '{unknown[0]}' (known: {', '.join(sorted(known))})")
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            default = known[key].default
            try:
                if isinstance(default, bool):
                    if not isinstance(value, bool):
                        raise TypeError
                    kwargs[key] = value
                elif isinstance(default, float):
                    kwargs[key] = float(value)
                elif isinstance(default, tuple):
                    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                        raise TypeError
                    kwargs[key] = tuple(value)
                else:
                    if not isinstance(value, str):
                        raise TypeError
                    kwargs[key] = value
            except (TypeError, ValueError):
                raise ConfigurationError(f"sim node setting '{key}' has the wrong type: {value!r} "
                                         f"(expected {type(default).__name__})") from None
        return cls(**kwargs)


NODE_KEYS = frozenset(f.name for f in fields(SimNodeSettings))
