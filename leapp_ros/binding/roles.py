"""What a bundle port means to a robot: classify each external port into a binding role."""

from __future__ import annotations

from enum import Enum

from leapp_ros.bundle import Port


class Role(str, Enum):
    """Binding roles; the value is the canonical kind string shown in reports."""

    JOINT_POSITION = "state/joint/position"
    JOINT_VELOCITY = "state/joint/velocity"
    JOINT_EFFORT = "state/joint/effort"
    BASE_ORIENTATION = "state/body/rotation"
    BASE_ANGULAR_VELOCITY = "state/body/angular_velocity"
    BASE_LINEAR_VELOCITY = "state/body/linear_velocity"
    PROJECTED_GRAVITY = "state/vector3d:projected_gravity_b"
    COMMAND_BODY_VELOCITY = "command/body/velocity"
    COMMAND_POSE = "command/body/pose"
    COMMAND_POSITION = "command/body/target_position"
    COMMAND_ROTATION = "command/body/target_rotation"
    TARGET_JOINT_POSITION = "target/joint/position"
    TARGET_JOINT_VELOCITY = "target/joint/velocity"
    TARGET_JOINT_EFFORT = "target/joint/effort"
    KP = "kp"
    KD = "kd"

    @property
    def is_joint_state(self) -> bool:
        return self in (Role.JOINT_POSITION, Role.JOINT_VELOCITY, Role.JOINT_EFFORT)

    @property
    def is_command(self) -> bool:
        return self.value.startswith("command/")

    @property
    def is_target(self) -> bool:
        return self in (Role.TARGET_JOINT_POSITION, Role.TARGET_JOINT_VELOCITY, Role.TARGET_JOINT_EFFORT)

    @property
    def is_gain(self) -> bool:
        return self in (Role.KP, Role.KD)


# `state:<entity>:<property>` properties we can fill from standard messages (base frame = `_b` or the root quat).
_STATE_PROPERTIES: dict[str, Role] = {
    "joint_pos": Role.JOINT_POSITION,
    "joint_vel": Role.JOINT_VELOCITY,
    "joint_effort": Role.JOINT_EFFORT,
    "applied_torque": Role.JOINT_EFFORT,
    "root_quat_w": Role.BASE_ORIENTATION,
    "root_link_quat_w": Role.BASE_ORIENTATION,
    "quat_w": Role.BASE_ORIENTATION,  # PVA / IMU-like sensors mounted on the base
    "root_ang_vel_b": Role.BASE_ANGULAR_VELOCITY,
    "root_link_ang_vel_b": Role.BASE_ANGULAR_VELOCITY,
    "root_com_ang_vel_b": Role.BASE_ANGULAR_VELOCITY,
    "ang_vel_b": Role.BASE_ANGULAR_VELOCITY,
    "root_lin_vel_b": Role.BASE_LINEAR_VELOCITY,
    "root_link_lin_vel_b": Role.BASE_LINEAR_VELOCITY,
    "root_com_lin_vel_b": Role.BASE_LINEAR_VELOCITY,
    "lin_vel_b": Role.BASE_LINEAR_VELOCITY,
    "projected_gravity_b": Role.PROJECTED_GRAVITY,
}

_WRITE_METHODS: dict[str, Role] = {
    "set_joint_position_target_index": Role.TARGET_JOINT_POSITION,
    "set_joint_position_target_mask": Role.TARGET_JOINT_POSITION,
    "set_joint_velocity_target_index": Role.TARGET_JOINT_VELOCITY,
    "set_joint_velocity_target_mask": Role.TARGET_JOINT_VELOCITY,
    "set_joint_effort_target_index": Role.TARGET_JOINT_EFFORT,
    "set_joint_effort_target_mask": Role.TARGET_JOINT_EFFORT,
    "write_joint_stiffness_to_sim_index": Role.KP,
    "write_joint_damping_to_sim_index": Role.KD,
}

# Kinds alone (leapp 0.3 bundles and ports without a connection). Body kinds are taken to be the base.
_KINDS: dict[str, Role] = {
    "state/joint/position": Role.JOINT_POSITION,
    "state/joint/velocity": Role.JOINT_VELOCITY,
    "state/joint/effort": Role.JOINT_EFFORT,
    "state/body/rotation": Role.BASE_ORIENTATION,
    "state/body/angular_velocity": Role.BASE_ANGULAR_VELOCITY,
    "state/body/linear_velocity": Role.BASE_LINEAR_VELOCITY,
    "command/body/velocity": Role.COMMAND_BODY_VELOCITY,
    "command/body/pose": Role.COMMAND_POSE,
    "command/body/target_position": Role.COMMAND_POSITION,
    "command/body/position": Role.COMMAND_POSITION,
    "command/body/target_rotation": Role.COMMAND_ROTATION,
    "command/body/rotation": Role.COMMAND_ROTATION,
    "target/joint/position": Role.TARGET_JOINT_POSITION,
    "target/joint/velocity": Role.TARGET_JOINT_VELOCITY,
    "target/joint/effort": Role.TARGET_JOINT_EFFORT,
    "target/joint/torques": Role.TARGET_JOINT_EFFORT,
    "kp": Role.KP,
    "kd": Role.KD,
}

ROLE_NAMES = {role.name.lower(): role for role in Role} | {role.value: role for role in Role}


def parse_role(text: str, where: str) -> Role:
    """A role from a parameter value: a kind string (`target/joint/position`) or a role name (`kp`)."""
    role = ROLE_NAMES.get(str(text).strip().lower()) or _KINDS.get(str(text).strip())
    if role is None:
        raise ValueError(f"{where}: unknown binding kind {text!r} (known: {', '.join(sorted(_KINDS))})")
    return role


def classify(port: Port) -> tuple[Role | None, str]:
    """The role of `port` and how it was found, or (None, why not)."""
    connection = port.connection
    if connection is not None:
        if connection.kind == "state" and connection.attribute in _STATE_PROPERTIES and connection.key is None:
            role = _STATE_PROPERTIES[connection.attribute]
            if connection.attribute == "quat_w" and port.kind != Role.BASE_ORIENTATION.value:
                return None, f"isaaclab_connection '{connection}' with kind '{port.kind}' is not a body orientation"
            return role, f"isaaclab_connection '{connection}'"
        if connection.kind == "write" and connection.attribute in _WRITE_METHODS:
            return _WRITE_METHODS[connection.attribute], f"isaaclab_connection '{connection}'"
        if connection.kind == "command" and port.kind in _KINDS and _KINDS[port.kind].is_command:
            return _KINDS[port.kind], f"isaaclab_connection '{connection}' with kind '{port.kind}'"
        if connection.kind == "command" and port.kind is None:
            return None, f"command '{connection.attribute}' has no kind (cmd_kind), so its meaning is unknown"
        return None, f"isaaclab_connection '{connection}' has no standard ROS binding"
    if port.kind is not None and port.kind in _KINDS:
        role = _KINDS[port.kind]
        if role.is_target or role.is_gain or port.direction == "input":
            return role, f"kind '{port.kind}', no isaaclab_connection"
    if port.kind == "state/vector3d" and "gravity" in port.name.lower():
        return Role.PROJECTED_GRAVITY, f"kind '{port.kind}' and port name '{port.name}'"
    if port.kind is None:
        return None, "the port has no kind and no isaaclab_connection"
    return None, f"kind '{port.kind}' has no standard ROS binding"
