"""The deploy node's parameters: one documented table (rclpy declares it; the DDS runner reads the same
keys from a ROS parameter file), flattening of nested YAML, `name:=value` overrides and validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from leapp_ros.binding.settings import SOURCES, flatten, load_params_file  # noqa: F401 - re-exported
from leapp_ros.errors import ConfigurationError

NODE_NAME = "leapp_deploy"


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    default: Any
    description: str
    type_name: str  # "string" | "double" | "integer" | "bool" | "string_array" | "double_array" | "integer_array"


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
    ParameterSpec("estop.topic", "estop", "std_msgs/Bool: true asserts the e-stop, false releases it.", "string"),
    ParameterSpec("autostart", False, "rclpy lifecycle node only: configure at start, then activate as soon as "
                  "every required input has arrived (leapp-ros run always does, unless --no-activate).", "bool"),
    ParameterSpec("enable_on_activate", False, "Enable the safety machine (start RAMP_IN) as soon as the node "
                  "activates. Off: an activated node stays INACTIVE until ~/enable (std_msgs/Bool true). autostart and "
                  "leapp-ros run turn it on.", "bool"),
    ParameterSpec("diagnostics_period_s", 1.0, "Period of /diagnostics messages.", "double"),
    ParameterSpec("realtime.cpu_affinity", [], "CPUs the tick thread may run on (e.g. [1]); empty = inherited.",
                  "integer_array"),
    ParameterSpec("realtime.priority", 0, "SCHED_FIFO priority (1-99) of the tick thread; 0 = normal scheduling. "
                  "Refused with a warning without CAP_SYS_NICE / an rtprio limit.", "integer"),
    ParameterSpec("realtime.lock_memory", False, "mlockall() at activation (no page faults on the tick path); "
                  "refused with a warning without CAP_IPC_LOCK / a memlock limit.", "bool"),
    ParameterSpec("realtime.gc", "scheduled", "scheduled: freeze what configure allocated and run Python's garbage "
                  "collector between ticks, never inside one; automatic: Python's default.", "string"),
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
    unknown = sorted(k for k in params if k not in DEFAULTS and k != "use_sim_time"
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
