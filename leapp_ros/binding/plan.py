"""Compile a `BindingPlan` from a bundle and binding settings: every external port gets a topic, a message
field per element and precomputed index arrays, or configuration is refused naming the port."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leapp_ros.binding import decoders as msgs
from leapp_ros.binding.elements import DEFAULT_NAMES, components
from leapp_ros.binding.fixes import UnplacedPortError, fix_line, suggested_names
from leapp_ros.binding.held import held_joints
from leapp_ros.binding.inputs import InputBinding, InputPlan, TopicInput
from leapp_ros.binding.outputs import GainOutput, OutputPlan, TargetOutput
from leapp_ros.binding.roles import Role, classify, parse_role
from leapp_ros.binding.settings import TARGET_TYPES, BindingSettings, PortOverride
from leapp_ros.bundle import Bundle, Port
from leapp_ros.errors import ConfigurationError
from leapp_ros.message_types import FLOAT64_MULTI_ARRAY, JOINT_STATE

NO_TIMEOUT_S = 1e9  # pose targets are held until replaced
_SOURCE_OF_ROLE = {
    Role.JOINT_POSITION: "joint_states", Role.JOINT_VELOCITY: "joint_states", Role.JOINT_EFFORT: "joint_states",
    Role.BASE_ORIENTATION: "imu", Role.BASE_ANGULAR_VELOCITY: "imu", Role.PROJECTED_GRAVITY: "imu",
    Role.BASE_LINEAR_VELOCITY: "odom", Role.COMMAND_BODY_VELOCITY: "cmd_vel",
    Role.COMMAND_POSE: "target_pose", Role.COMMAND_POSITION: "target_pose", Role.COMMAND_ROTATION: "target_pose",
}
_JOINT_FIELD = {Role.JOINT_POSITION: "position", Role.JOINT_VELOCITY: "velocity", Role.JOINT_EFFORT: "effort"}


@dataclass
class BindingPlan:
    """Everything the node needs to move numbers between ROS messages and the engine."""

    bundle: Bundle
    settings: BindingSettings
    inputs: InputPlan
    outputs: OutputPlan


def compile_plan(bundle: Bundle, settings: BindingSettings | None = None) -> BindingPlan:
    """Bind every external port of `bundle`; raise ConfigurationError naming the first unbindable one."""
    settings = settings or BindingSettings()
    known = {p.name for p in (*bundle.inputs, *bundle.outputs)}
    unknown = sorted(set(settings.ports) - known)
    if unknown:
        raise ConfigurationError(f"parameters name ports {unknown} that the bundle '{bundle.name}' does not have "
                                 f"(its ports: {sorted(known)})")
    bindings = [_bind_input(port, settings, bundle) for port in bundle.inputs]
    outputs = _bind_outputs(bundle, settings)
    bindings += _whole_robot_state(bindings, outputs, settings)
    inputs = InputPlan(bindings, _topics(bindings, settings))
    return BindingPlan(bundle=bundle, settings=settings, inputs=inputs, outputs=outputs)


def _role(port: Port, override: PortOverride) -> tuple[Role, str]:
    if override.kind is not None:
        try:
            return parse_role(override.kind, f"ports.{port.name}.kind"), f"parameter ports.{port.name}.kind"
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
    role, why = classify(port)
    if role is None:
        example = "target/joint/position" if port.direction == "output" else "state/joint/position"
        raise ConfigurationError(
            f"{port.direction} port '{port.name}' cannot be bound: {why}. Map it with the parameter "
            f"'ports.{port.name}.kind' (e.g. {example})"
            + (f" or skip it with 'ports.{port.name}.ignore: true'" if port.direction == "output" else ""))
    return role, why


def _names(port: Port, override: PortOverride, role: Role, joints: bool, bundle: Bundle | None = None
           ) -> tuple[str, ...]:
    names = (override.joints if joints else override.element_names) or port.last_axis_names
    defaults = DEFAULT_NAMES.get(role) if not joints else None
    if names is None and not joints:
        names = defaults
    attribute = "joints" if joints else "element_names"
    if names is None or len(names) != port.size:
        if port.unplaced_names is not None and not (override.joints if joints else override.element_names):
            why = (f"{len(port.unplaced_names)} element names for its {port.size} values (the loader dropped them: "
                   f"{list(port.unplaced_names)[:8]})" if len(port.unplaced_names) != port.size else
                   "element names that repeat "
                   f"{sorted({n for n in port.unplaced_names if port.unplaced_names.count(n) > 1})}")
        elif names is None:
            why = "no element names"
        else:
            why = f"{len(names)} element names {list(names)[:8]} for its {port.size} values (shape {list(port.shape)})"
        what = "joint" if joints else "component"
        raise UnplacedPortError(
            f"port '{port.name}' ({role.value}) has {why}, so its {what} order is unknown",
            fix_line(port, attribute, suggested_names(port, bundle, joints, defaults)))
    return tuple(names)


def _bind_input(port: Port, settings: BindingSettings, bundle: Bundle | None = None) -> InputBinding:
    override = settings.ports.get(port.name, PortOverride())
    if override.ignore:
        raise ConfigurationError(f"input port '{port.name}' cannot be ignored: the pipeline needs every input")
    role, found_by = _role(port, override)
    if role not in _SOURCE_OF_ROLE:
        raise ConfigurationError(f"input port '{port.name}' has the output kind '{role.value}'")
    spec = settings.sources[_SOURCE_OF_ROLE[role]]
    topic = override.topic or spec.topic
    type_name = override.type_name or spec.type_name
    qos = override.qos or spec.qos
    if role.is_joint_state:
        elements = _names(port, override, role, joints=True, bundle=bundle)
        if type_name != JOINT_STATE:
            raise ConfigurationError(f"input port '{port.name}' ({role.value}) needs {JOINT_STATE}, "
                                     f"but topic '{topic}' is set to {type_name}")
        fields = tuple(f"{_JOINT_FIELD[role]}[{name}]" for name in elements)
    else:
        elements = _names(port, override, role, joints=False, bundle=bundle)
        try:
            fields = components(role, elements, f"input port '{port.name}'")
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        layout = msgs.LAYOUTS.get(type_name, {})
        missing = [f for f in fields if f not in layout]
        if missing:
            raise ConfigurationError(f"input port '{port.name}' ({role.value}) cannot be read from {type_name} "
                                     f"on topic '{topic}': it has no {missing[0]}")
    velocity_command = role is Role.COMMAND_BODY_VELOCITY
    pose_command = role.is_command and not velocity_command
    timeout = override.timeout_s or (settings.command_timeout_s if velocity_command else
                                     NO_TIMEOUT_S if pose_command else settings.input_timeout_s)
    required = override.required if override.required is not None else not velocity_command
    return InputBinding(port=port, role=role, found_by=found_by, topic=topic, type_name=type_name, qos=qos,
                        fields=fields, elements=elements, required=required, timeout_s=timeout,
                        zero_on_timeout=velocity_command)


def _topics(bindings: list[InputBinding], settings: BindingSettings) -> list[TopicInput]:
    grouped: dict[str, list[InputBinding]] = {}
    for binding in bindings:
        grouped.setdefault(binding.topic, []).append(binding)
    topics = []
    for topic, group in grouped.items():
        types = {b.type_name for b in group}
        qos = {b.qos for b in group}
        if len(types) > 1 or len(qos) > 1:
            raise ConfigurationError(f"topic '{topic}' is bound with different message types or QoS "
                                     f"({sorted(types)}, {sorted(qos)}) by ports {[b.port.name for b in group]}")
        type_name = group[0].type_name
        if type_name == JOINT_STATE:
            slots = [msgs.Slot(b.key, np.zeros(b.port.size, np.intp), b.staging, _JOINT_FIELD[b.role], b.elements)
                     for b in group]
            decoder: msgs.JointStateDecoder | msgs.VectorDecoder = msgs.JointStateDecoder(slots)
        else:
            layout = msgs.LAYOUTS[type_name]
            slots = [msgs.Slot(b.key, np.array([layout[f] for f in b.fields], np.intp), b.staging) for b in group]
            decoder = msgs.VectorDecoder(type_name, slots, base_frame=settings.base_frame,
                                         imu_to_base=settings.imu_to_base)
        topics.append(TopicInput(topic, type_name, group[0].qos, decoder, group))
    return topics


def _bind_outputs(bundle: Bundle, settings: BindingSettings) -> OutputPlan:
    targets_spec = settings.sources["targets"]
    chosen: list[tuple[Port, Role, str, PortOverride]] = []
    ignored: list[tuple[Port, str]] = []
    for port in bundle.outputs:
        override = settings.ports.get(port.name, PortOverride())
        if override.ignore:
            ignored.append((port, f"parameter ports.{port.name}.ignore"))
            continue
        role, found_by = _role(port, override)
        if not (role.is_target or role.is_gain):
            raise ConfigurationError(f"output port '{port.name}' has the input kind '{role.value}'")
        chosen.append((port, role, found_by, override))
    target_ports = [(c, _names(c[0], c[3], c[1], joints=True, bundle=bundle)) for c in chosen if c[1].is_target]
    held = held_joints(bundle.vendor, settings.held, {j for _, joints in target_ports for j in joints})
    if settings.command_joints:  # joints this controller does not list are not on it
        held = tuple(h for h in held if h.name in set(settings.command_joints))
    if held and len(target_ports) != 1:
        raise ConfigurationError(f"held joints {[h.name for h in held][:6]} need exactly one joint target output to "
                                 f"join, the bundle has {len(target_ports)}")
    targets = []
    for (port, role, found_by, override), joints in target_ports:
        type_name = override.type_name or targets_spec.type_name
        if type_name not in TARGET_TYPES:
            raise ConfigurationError(f"output port '{port.name}': type {type_name} is not one of {list(TARGET_TYPES)}")
        order = _published_order(port, joints + tuple(h.name for h in held), type_name, settings)
        topic = override.topic or (targets_spec.topic if len(target_ports) == 1 else
                                   f"{targets_spec.topic}/{port.name}")
        driven = [j for j in order if j in set(joints)]
        target = TargetOutput(port=port, role=role, found_by=found_by, topic=topic, type_name=type_name,
                              qos=override.qos or targets_spec.qos, joints=order,
                              index=np.array([joints.index(j) for j in driven], np.intp),
                              slots=np.array([order.index(j) for j in driven], np.intp) if held else None,
                              held=held)
        for h in held:
            target.values[order.index(h.name)] = h.position
        targets.append(target)
    if settings.command_joints:
        covered = {j for t in targets if t.type_name == FLOAT64_MULTI_ARRAY for j in t.joints}
        uncovered = [j for j in settings.command_joints if j not in covered]
        if uncovered:
            raise ConfigurationError(f"command_joints names joint '{uncovered[0]}' that no target output of the "
                                     f"bundle commands ({len(uncovered)} such joints: {uncovered[:8]})")
    gains = []
    for port, role, found_by, override in chosen:
        if not role.is_gain:
            continue
        joints = _names(port, override, role, joints=True, bundle=bundle)
        owner = _target_of_gain(port, joints, targets)
        if owner is not None and owner.held and set(joints) == set(owner.joints) - {h.name for h in owner.held}:
            gain = _gain_with_held(port, role, found_by, override, joints, owner)
        else:
            if owner is not None and set(joints) <= set(owner.joints):
                order = tuple(j for j in owner.joints if j in set(joints))
            else:
                order = joints
            base = owner.topic if owner is not None else targets_spec.topic
            gain = GainOutput(port=port, role=role, found_by=found_by,
                              topic=override.topic or f"{base}/{role.value}", joints=order,
                              index=np.array([joints.index(j) for j in order], np.intp))
        if owner is not None:
            owner.gains.append(gain)
        gains.append(gain)
    return OutputPlan(targets, gains, ignored)


def _gain_with_held(port: Port, role: Role, found_by: str, override: PortOverride, joints: tuple[str, ...],
                    target: TargetOutput) -> GainOutput:
    """The policy's kp/kd joined by the held joints' fixed gains, in the target's (whole-robot) joint order."""
    driven = [j for j in target.joints if j in set(joints)]
    gain = GainOutput(port=port, role=role, found_by=found_by, topic=override.topic or f"{target.topic}/{role.value}",
                      joints=target.joints, index=np.array([joints.index(j) for j in driven], np.intp),
                      slots=np.array([target.joints.index(j) for j in driven], np.intp))
    for h in target.held:
        value = h.kp if role is Role.KP else h.kd
        if value is None:
            raise ConfigurationError(f"held joint '{h.name}' ({h.source}) has no {role.value} but the policy "
                                     f"publishes {role.value} gains; give it with the parameter line  "
                                     f"held_joints.{h.name}.{role.value}: <value>")
        gain.values[target.joints.index(h.name)] = value
    return gain


def _whole_robot_state(bindings: list[InputBinding], outputs: OutputPlan,
                       settings: BindingSettings) -> list[InputBinding]:
    """Measured-only joint-state inputs covering every commanded joint, so safety ramps and watches held joints."""
    target = next((t for t in outputs.targets if t.held), None)
    if target is None:
        return []
    extra = []
    for role, name in ((Role.JOINT_POSITION, "whole_robot_joint_pos"), (Role.JOINT_VELOCITY, "whole_robot_joint_vel")):
        policy = next((b for b in bindings if b.role is role), None)
        if policy is None:
            continue
        port = Port(node="robot", name=name, direction="input", dtype=np.dtype(np.float64),
                    shape=(1, len(target.joints)), kind=role.value)
        extra.append(InputBinding(
            port=port, role=role, found_by=f"held joints {[h.name for h in target.held][:4]}: measured, not fed to "
            "the policy", topic=policy.topic, type_name=policy.type_name, qos=policy.qos,
            fields=tuple(f"{_JOINT_FIELD[role]}[{j}]" for j in target.joints), elements=target.joints,
            required=True, timeout_s=policy.timeout_s, zero_on_timeout=False, feeds_engine=False))
    return extra


def _published_order(port: Port, joints: tuple[str, ...], type_name: str,
                     settings: BindingSettings) -> tuple[str, ...]:
    if type_name != FLOAT64_MULTI_ARRAY or not settings.command_joints:
        return joints
    listed = set(settings.command_joints)
    absent = [j for j in joints if j not in listed]
    if absent:
        raise ConfigurationError(f"output port '{port.name}' commands joint '{absent[0]}' that the command_joints "
                                 f"parameter does not list ({len(absent)} missing: {absent[:8]})")
    return tuple(j for j in settings.command_joints if j in set(joints))


def _target_of_gain(port: Port, joints: tuple[str, ...], targets: list[TargetOutput]) -> TargetOutput | None:
    for target in targets:  # Isaac Lab names gains `<action term>_kp_gains` / `<action term>_kd_gains`
        if port.name in (f"{target.port.name}_kp_gains", f"{target.port.name}_kd_gains"):
            return target
    same = [t for t in targets if set(t.joints) == set(joints)]
    if len(same) == 1:
        return same[0]
    return targets[0] if len(targets) == 1 else None
