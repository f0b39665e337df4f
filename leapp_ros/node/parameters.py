"""The deploy node's parameters: one documented table (rclpy declares it; the DDS runner reads the same
keys from a ROS parameter file), the `safety.*` / `ports.*` / `joint_limits.*` families, flattening of nested
YAML, `name:=value` overrides and validation of a set before it is accepted."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from leapp_ros.binding.settings import SOURCES, flatten, load_params_file  # noqa: F401 - re-exported
from leapp_ros.errors import ConfigurationError

NODE_NAME = "leapp_deploy"


# When a set parameter takes effect on the rclpy lifecycle node.
AT_START = "start"  # read once when the node starts: read-only afterwards
AT_CONFIGURE = "configure"  # read by the next configure (cleanup -> configure applies a change to a running node)
AT_ACTIVATE = "activate"  # read by the next activate
EFFECT_TEXT = {AT_START: "read-only: fixed when the node starts",
               AT_CONFIGURE: "takes effect at the next configure",
               AT_ACTIVATE: "takes effect at the next activate"}


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    default: Any
    description: str
    type_name: str  # "string" | "double" | "integer" | "bool" | "string_array" | "double_array" | "integer_array"
    when: str = AT_CONFIGURE


def _source_specs() -> list[ParameterSpec]:
    specs = []
    for source, spec in SOURCES.items():
        what = "joint targets (several target outputs: <topic>/<port name>)" if source == "targets" else \
            f"the '{source}' input"
        specs += [ParameterSpec(f"{source}.topic", spec.topic, f"Topic of {what}.", "string"),
                  ParameterSpec(f"{source}.type", spec.type_name, f"Message type of {what}.", "string"),
                  ParameterSpec(f"{source}.qos", spec.qos,
                                f"QoS of {what}: sensor_data | default | latched.", "string")]
    return specs


PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("bundle", "", "Path of the LEAPP bundle YAML (or its directory). Required.", "string"),
    ParameterSpec("backend", "auto", "Inference backend: auto (measure the candidates at configure, keep the fastest "
                  "that matches the warm-up reference), or one of onnxruntime, torch, onnxruntime-cuda, torch-cuda, "
                  "tensorrt (docs/engine.md).", "string"),
    ParameterSpec("device", "cpu", "Inference device: cpu or cuda (cuda:N): cuda runs the GPU device engine "
                  "(feedback state stays on the GPU).", "string"),
    ParameterSpec("threads", 1, "Intra-op threads of the CPU runtimes (ONNX Runtime, torch); 1 keeps small "
                  "policies fastest and steadiest.", "integer"),
    ParameterSpec("rate_hz", 0.0, "Policy rate in Hz; 0 = from the bundle (pipeline.configs.frequency, or "
                  "semantic.scene.dt for leapp 0.3 bundles). Required when the bundle states none.", "double"),
    ParameterSpec("tick_on", "timer", "timer: deadline-based tick at rate_hz; joint_states: tick on every accepted "
                  "joint-state message (event driven).", "string"),
    ParameterSpec("base_frame", "base_link", "Robot base frame; PoseStamped commands must use it (or be empty).",
                  "string"),
    ParameterSpec("imu_to_base_quat_xyzw", [0.0, 0.0, 0.0, 1.0], "Fixed rotation of the IMU frame in the base "
                  "frame [x, y, z, w] (v_base = R v_imu).", "double_array"),
    ParameterSpec("command_timeout_s", 0.5, "A velocity command older than this falls back to zero.", "double"),
    ParameterSpec("input_timeout_s", 0.25, "A state input older than this counts as stale for activation (refused) "
                  "and diagnostics (marked stale); the safety watchdog holds on safety.stale_periods / "
                  "safety.stale_floor_ms.", "double"),
    ParameterSpec("command_joints", [], "Joint order of Float64MultiArray targets (ros2_control "
                  "forward_command_controller 'joints'); empty = the output port's element_names order.",
                  "string_array"),
    ParameterSpec("trajectory_time_from_start_s", 0.0, "time_from_start of the JointTrajectory point.", "double"),
    ParameterSpec("estop.topic", "estop", "std_msgs/Bool: true asserts the e-stop, false releases it.", "string",
                  AT_START),
    ParameterSpec("autostart", False, "rclpy lifecycle node only: configure at start, then activate as soon as "
                  "every required input has arrived (leapp-ros run always does, unless --no-activate).", "bool",
                  AT_START),
    ParameterSpec("enable_on_activate", False, "Enable the safety machine (start RAMP_IN) as soon as the node "
                  "activates. Off: an activated node stays INACTIVE until ~/enable (std_msgs/Bool true). autostart and "
                  "leapp-ros run turn it on.", "bool", AT_ACTIVATE),
    ParameterSpec("diagnostics_period_s", 1.0, "Period of /diagnostics messages.", "double", AT_ACTIVATE),
    ParameterSpec("realtime.cpu_affinity", [], "CPUs the tick thread may run on (e.g. [1]); empty = inherited.",
                  "integer_array", AT_ACTIVATE),
    ParameterSpec("realtime.priority", 0, "SCHED_FIFO priority (1-99) of the tick thread; 0 = normal scheduling. "
                  "Refused with a warning without CAP_SYS_NICE / an rtprio limit.", "integer", AT_ACTIVATE),
    ParameterSpec("realtime.lock_memory", False, "mlockall() at activation (no page faults on the tick path); "
                  "refused with a warning without CAP_IPC_LOCK / a memlock limit.", "bool", AT_ACTIVATE),
    ParameterSpec("realtime.gc", "scheduled", "scheduled: freeze what configure allocated and run Python's garbage "
                  "collector between ticks, never inside one; automatic: Python's default.", "string", AT_ACTIVATE),
    ParameterSpec("realtime.timer_slack_ns", 1000, "Timer slack of the tick thread in ns (how late the kernel may wake "
                  "it after its deadline; Linux's default, 50000, doubles the tick's wake-up latency); 0 = inherited.",
                  "integer", AT_ACTIVATE),
    ParameterSpec("realtime.cpu_dma_latency_us", -1, "While active, hold a PM QoS request (/dev/cpu_dma_latency) that "
                  "no CPU sleeps in an idle state slower to leave than this many us (0: cores never sleep deeply); "
                  "-1 = leave power management alone. Refused with a warning without root / write access.",
                  "integer", AT_ACTIVATE),
    ParameterSpec("realtime.switch_interval_us", 100, "While active, the Python interpreter's thread switch interval "
                  "in us (process-wide; Python's default is 5000): how long the tick may wait for the interpreter lock "
                  "held by another thread after its inference. 0 = Python's.", "integer", AT_ACTIVATE),
    ParameterSpec("robot_description", "", "URDF text for joint limits (usually from robot_state_publisher).",
                  "string"),
    ParameterSpec("urdf_file", "", "URDF file for joint limits when robot_description is empty.", "string"),
    ParameterSpec("robot_description_topic", "robot_description", "Latched std_msgs/String topic read at configure "
                  "for joint limits when neither robot_description nor urdf_file is set ('' = do not wait).", "string"),
    ParameterSpec("robot_description_wait_s", 1.0, "How long configure waits for robot_description_topic.",
                  "double"),
    *_source_specs(),
)
# Families of parameters whose names depend on the bundle or the robot (read with their prefix):
PREFIXES = {
    "ports.": "ports.<port name>.{topic,type,qos,kind,joints,element_names,required,ignore,timeout_s}",
    "safety.": "safety.<SafetyConfig field> (docs/safety.md)",
    "joint_limits.": "joint_limits.<joint>.{lower,upper,velocity,effort}",
    "held_joints.": "held_joints.<joint>.{position,kp,kd} and held_joints.from_vendor_block (docs/bundles.md)",
}
DEFAULTS = {spec.name: spec.default for spec in PARAMETERS}
# Parameters rclpy declares on every node (Iron and later) or that ROS tooling adds: tolerated, never ours.
ROS_OWNED = ("use_sim_time", "start_type_description_service")
ROS_OWNED_PREFIXES = ("qos_overrides.",)
# `ports.<port>.<key>` declared for every bundle port; the "not set" value leaves the bundle's binding alone.
PORT_SPECS: tuple[tuple[str, Any, str, str], ...] = (
              ("topic", "", "string", "topic ('' = from the bundle / the source parameters)"),
              ("type", "", "string", "message type ('' = the default for its kind)"),
              ("qos", "", "string", "QoS: sensor_data | default | latched ('' = the source's)"),
              ("kind", "", "string", "LEAPP kind, e.g. target/joint/position ('' = from the bundle)"),
              ("joints", [], "string_array", "joint names ([] = from the bundle)"),
              ("element_names", [], "string_array", "element names ([] = from the bundle)"),
              ("ignore", False, "bool", "true: neither subscribe nor publish this port"),
              ("timeout_s", 0.0, "double", "staleness timeout in s (0 = input_timeout_s / command_timeout_s)"))
LIMIT_KEYS = ("lower", "upper", "velocity", "effort")


def is_ros_owned(name: str) -> bool:
    return name in ROS_OWNED or name.startswith(ROS_OWNED_PREFIXES)


def _ros_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    return "double" if isinstance(value, float) else "string"


def safety_specs() -> list[ParameterSpec]:
    """`safety.<field>` for every SafetyConfig field (scalar form; per-joint mappings come as overrides)."""
    from leapp_ros.safety.config import SafetyConfig

    notes = {"command_interface": " Unset: position_gains when the bundle outputs gains, else position."}
    return [ParameterSpec(f"safety.{f.name}", f.default, f"Safety layer: {f.name} (docs/safety.md)."
                          + notes.get(f.name, ""), _ros_type(f.default)) for f in dataclasses.fields(SafetyConfig)]


def bundle_specs(bundle: Any) -> list[ParameterSpec]:
    """`ports.<port>.*` for every port of `bundle` and `joint_limits.<joint>.*` for every joint it names.

    Their defaults mean "not set" ('' / [] / 0 / false for ports, NaN for limits), so declaring them changes
    nothing until a value is given; `explicit` drops the unset ones before the node reads them."""
    specs = []
    for port in [*bundle.inputs, *bundle.outputs]:
        specs += [ParameterSpec(f"ports.{port.name}.{key}", default, f"Port '{port.name}': {text}.", type_name)
                  for key, default, type_name, text in PORT_SPECS]
    joints: list[str] = []
    for port in [*bundle.inputs, *bundle.outputs]:
        if port.kind and ("joint" in port.kind):
            joints += [n for n in port.last_axis_names if n not in joints]
    for joint in joints:
        specs += [ParameterSpec(f"joint_limits.{joint}.{key}", math.nan, f"Joint '{joint}' {key} limit "
                                "(NaN = from the URDF / robot_description).", "double") for key in LIMIT_KEYS]
    return specs


def explicit(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` without ROS-owned names and without family entries left at their "not set" value."""
    result = {}
    for name, value in params.items():
        if is_ros_owned(name):
            continue
        if name.startswith("joint_limits.") and isinstance(value, float) and math.isnan(value):
            continue
        if name.startswith("ports.") and _port_unset(name, value):
            continue
        if name.startswith("safety.") and _SAFETY_DEFAULTS().get(name[len("safety."):], _MISSING) == value:
            continue  # unset: e.g. command_interface then follows the bundle (position without gain outputs)
        result[name] = value
    return result


_MISSING = object()


def _SAFETY_DEFAULTS() -> dict[str, Any]:  # noqa: N802 - a constant built lazily (safety imports no node code)
    from leapp_ros.safety.config import SafetyConfig
    return {f.name: f.default for f in dataclasses.fields(SafetyConfig)}


def _port_unset(name: str, value: Any) -> bool:
    key = name.rpartition(".")[2]
    return ((key in ("topic", "type", "qos", "kind") and value == "")
            or (key in ("joints", "element_names") and list(value) == [])
            or (key == "ignore" and value is False) or (key == "timeout_s" and value == 0.0))


def validate(params: Mapping[str, Any]) -> str | None:
    """Why `params` (the node's whole set after a change) cannot be used, or None. Checks what a configure
    would check before any bundle is loaded: values, ranges, topic/type/QoS names, safety and joint limits."""
    from leapp_ros.binding.settings import BindingSettings
    from leapp_ros.safety.config import SafetyConfig
    from leapp_ros.safety.limits import parse_parameter_limits

    try:
        merged = resolve(explicit(params))
        checks = (("rate_hz", lambda v: math.isfinite(v) and v >= 0, "must be >= 0 (0 = the bundle's rate)"),
                  ("tick_on", lambda v: v in ("timer", "joint_states"), "must be 'timer' or 'joint_states'"),
                  ("backend", lambda v: bool(str(v).strip()), "must not be empty (auto picks one)"),
                  ("device", lambda v: bool(str(v).strip()), "must not be empty (cpu | cuda)"),
                  ("diagnostics_period_s", lambda v: math.isfinite(v) and v > 0, "must be > 0"),
                  ("robot_description_wait_s", lambda v: math.isfinite(v) and v >= 0, "must be >= 0"),
                  ("trajectory_time_from_start_s", lambda v: math.isfinite(v) and v >= 0, "must be >= 0"),
                  ("estop.topic", lambda v: bool(str(v).strip()), "must be a topic name"),
                  ("realtime.priority", lambda v: 0 <= int(v) <= 99, "must be 0 (normal) or a priority 1-99"),
                  ("realtime.cpu_affinity", lambda v: all(int(c) >= 0 for c in v), "must list CPU numbers >= 0"),
                  ("realtime.gc", lambda v: v in ("scheduled", "automatic"), "must be 'scheduled' or 'automatic'"),
                  ("realtime.timer_slack_ns", lambda v: 0 <= int(v) <= 10_000_000, "must be 0 (inherited) to 10000000"),
                  ("realtime.cpu_dma_latency_us", lambda v: int(v) >= -1, "must be -1 (off) or a latency in us"),
                  ("realtime.switch_interval_us", lambda v: 0 <= int(v) <= 1_000_000,
                   "must be 0 (Python's) to 1000000"))
        for name, ok, text in checks:
            if not ok(merged[name]):
                return f"parameter '{name}' {text}, got {merged[name]!r}"
        BindingSettings.from_params(merged)
        safety = {k: v for k, v in family(merged, "safety.").items() if "." not in k}
        SafetyConfig.from_parameters(safety)
        parse_parameter_limits(nested(family(merged, "joint_limits.")) or None)
    except (ConfigurationError, TypeError, ValueError) as exc:
        return str(exc)
    return None


def parse_assignment(text: str) -> tuple[str, Any]:
    """`name:=value` (value parsed as YAML, like `ros2 run ... -p`)."""
    name, sep, value = text.partition(":=")
    if not sep or not name.strip():
        raise ConfigurationError(f"--param expects name:=value, got {text!r}")
    try:
        return name.strip(), yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        return name.strip(), value


def resolve(params: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults + `params`; unknown names are refused with the list of known ones."""
    unknown = sorted(k for k in params if k not in DEFAULTS and not is_ros_owned(k)
                     and not any(k.startswith(p) for p in PREFIXES))
    if unknown:
        raise ConfigurationError(f"unknown parameters {unknown}; known: {sorted(DEFAULTS)} and the families "
                                 f"{', '.join(PREFIXES.values())}")
    merged = dict(DEFAULTS)
    merged.update(params)
    return merged


def family(params: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """`safety.ramp_in_duration_s` -> `{ramp_in_duration_s: ...}` for one prefix."""
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


def nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`{"a.b": 1}` -> `{a: {b: 1}}` (joint limits are a joint -> {lower, ...} mapping)."""
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        head, _, tail = key.rpartition(".")
        node = tree
        for part in head.split(".") if head else []:
            node = node.setdefault(part, {})
        node[tail] = value
    return tree
