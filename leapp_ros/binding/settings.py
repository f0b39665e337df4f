"""Binding parameters (topics, types, QoS, frames, joint order, per-port overrides) parsed from a flat dict."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from leapp_ros.errors import ConfigurationError
from leapp_ros.message_types import (
    FLOAT64_MULTI_ARRAY,
    IMU,
    JOINT_STATE,
    JOINT_TRAJECTORY,
    ODOMETRY,
    POSE_STAMPED,
    TWIST,
    TWIST_STAMPED,
)

TARGET_TYPES = (FLOAT64_MULTI_ARRAY, JOINT_TRAJECTORY, JOINT_STATE)
QOS_NAMES = {"sensor_data": "sensor_data", "best_effort": "sensor_data", "default": "default",
             "reliable": "default", "latched": "latched", "transient_local": "latched"}


@dataclass(frozen=True)
class TopicSpec:
    topic: str
    type_name: str
    qos: str


# Input sources: parameter prefix -> default topic, message type, QoS (drivers often publish best effort,
# and a best-effort subscription matches both reliable and best-effort publishers).
SOURCES: dict[str, TopicSpec] = {
    "joint_states": TopicSpec("joint_states", JOINT_STATE, "sensor_data"),
    "imu": TopicSpec("imu/data", IMU, "sensor_data"),
    "odom": TopicSpec("odom", ODOMETRY, "sensor_data"),
    "cmd_vel": TopicSpec("cmd_vel", TWIST, "default"),
    "target_pose": TopicSpec("target_pose", POSE_STAMPED, "default"),
    "targets": TopicSpec("joint_commands", FLOAT64_MULTI_ARRAY, "default"),
}
SOURCE_TYPES = {
    "joint_states": (JOINT_STATE,),
    "imu": (IMU, ODOMETRY),
    "odom": (ODOMETRY, TWIST_STAMPED),
    "cmd_vel": (TWIST, TWIST_STAMPED),
    "target_pose": (POSE_STAMPED,),
    "targets": TARGET_TYPES,
}
PORT_KEYS = {"topic", "type", "qos", "kind", "joints", "element_names", "required", "ignore", "timeout_s"}


@dataclass(frozen=True)
class PortOverride:
    """`ports.<port name>.<key>` parameters: rebind, rename or ignore one bundle port."""

    topic: str | None = None
    type_name: str | None = None
    qos: str | None = None
    kind: str | None = None
    joints: tuple[str, ...] | None = None
    element_names: tuple[str, ...] | None = None
    required: bool | None = None
    ignore: bool = False
    timeout_s: float | None = None


@dataclass(frozen=True)
class BindingSettings:
    base_frame: str = "base_link"
    imu_to_base: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    command_timeout_s: float = 0.5
    input_timeout_s: float = 0.25
    command_joints: tuple[str, ...] = ()
    trajectory_time_from_start_s: float = 0.0
    sources: Mapping[str, TopicSpec] = field(default_factory=lambda: dict(SOURCES))
    ports: Mapping[str, PortOverride] = field(default_factory=dict)
    held: Mapping[str, Any] = field(default_factory=dict)  # `held_joints.*` parameters (binding/held.py)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> BindingSettings:
        """Read the binding keys of a flat parameter dict (`imu.topic`, `ports.joint_pos.topic`, ...)."""
        p = dict(params)
        sources = {}
        for name, spec in SOURCES.items():
            type_name = str(p.get(f"{name}.type", spec.type_name))
            if type_name not in SOURCE_TYPES[name]:
                raise ConfigurationError(f"parameter '{name}.type' is {type_name!r}; supported: "
                                         f"{', '.join(SOURCE_TYPES[name])}")
            sources[name] = TopicSpec(_topic(p.get(f"{name}.topic", spec.topic), f"{name}.topic"), type_name,
                                      _qos(p.get(f"{name}.qos", spec.qos), f"{name}.qos"))
        mount = tuple(float(v) for v in p.get("imu_to_base_quat_xyzw", (0.0, 0.0, 0.0, 1.0)))
        if len(mount) != 4 or abs(math.sqrt(sum(v * v for v in mount)) - 1.0) > 1e-3:
            raise ConfigurationError(f"parameter 'imu_to_base_quat_xyzw' must be a unit quaternion [x, y, z, w], "
                                     f"got {list(mount)}")
        return cls(
            base_frame=str(p.get("base_frame", cls.base_frame)),
            imu_to_base=mount,
            command_timeout_s=_positive(p.get("command_timeout_s", cls.command_timeout_s), "command_timeout_s"),
            input_timeout_s=_positive(p.get("input_timeout_s", cls.input_timeout_s), "input_timeout_s"),
            command_joints=tuple(str(j) for j in (p.get("command_joints") or ())),
            trajectory_time_from_start_s=float(p.get("trajectory_time_from_start_s", 0.0)),
            sources=sources,
            ports=_port_overrides(p),
            held={k: v for k, v in p.items() if k.startswith("held_joints.")},
        )


def _topic(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"parameter '{where}' must be a non-empty topic name, got {value!r}")
    return value.strip()


def _qos(value: Any, where: str) -> str:
    name = QOS_NAMES.get(str(value).strip().lower())
    if name is None:
        raise ConfigurationError(f"parameter '{where}' is {value!r}; use one of {', '.join(QOS_NAMES)}")
    return name


def _positive(value: Any, where: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ConfigurationError(f"parameter '{where}' must be positive, got {value!r}")
    return number


def _port_overrides(params: Mapping[str, Any]) -> dict[str, PortOverride]:
    raw: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        if not key.startswith("ports."):
            continue
        port, _, attribute = key[len("ports."):].rpartition(".")
        if not port or attribute not in PORT_KEYS:
            raise ConfigurationError(f"parameter '{key}': expected 'ports.<port name>.<{'|'.join(sorted(PORT_KEYS))}>'")
        raw.setdefault(port, {})[attribute] = value
    result = {}
    for port, values in raw.items():
        where = f"ports.{port}"
        result[port] = PortOverride(
            topic=_topic(values["topic"], f"{where}.topic") if "topic" in values else None,
            type_name=str(values["type"]) if "type" in values else None,
            qos=_qos(values["qos"], f"{where}.qos") if "qos" in values else None,
            kind=str(values["kind"]) if "kind" in values else None,
            joints=tuple(str(v) for v in values["joints"]) if "joints" in values else None,
            element_names=tuple(str(v) for v in values["element_names"]) if "element_names" in values else None,
            required=bool(values["required"]) if "required" in values else None,
            ignore=bool(values.get("ignore", False)),
            timeout_s=_positive(values["timeout_s"], f"{where}.timeout_s") if "timeout_s" in values else None,
        )
    return result


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{a: {b: 1}}` -> `{"a.b": 1}` (ROS parameter files nest dotted names)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def load_params_file(path: str | Path, node_name: str = "leapp_deploy") -> dict[str, Any]:
    """The `ros__parameters` of `node_name` (or `/**`) in a ROS 2 parameter file, flattened."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"parameter file '{path}': {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"parameter file '{path}' must map node names to {{ros__parameters: ...}}")
    params: dict[str, Any] = {}
    for key in ("/**", "**", node_name, f"/{node_name}"):
        block = data.get(key)
        if isinstance(block, dict) and isinstance(block.get("ros__parameters"), dict):
            params.update(flatten(block["ros__parameters"]))
    if not params and data:
        raise ConfigurationError(f"parameter file '{path}' has no 'ros__parameters' for '{node_name}' or '/**' "
                                 f"(found keys {sorted(data)})")
    return params
