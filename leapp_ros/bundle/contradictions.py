"""Refuse a port whose `kind` and `isaaclab_connection` describe different quantities."""

from __future__ import annotations

from collections.abc import Callable

from leapp_ros.bundle.connection import Connection

# What an Isaac Lab state attribute or write method carries: (family, quantity).
_STATE_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "joint_pos": ("joint", "position"), "joint_pos_rel": ("joint", "position"),
    "joint_vel": ("joint", "velocity"), "joint_vel_rel": ("joint", "velocity"),
    "joint_effort": ("joint", "effort"), "applied_torque": ("joint", "effort"),
    "joint_acc": ("joint", "acceleration"),
    "root_quat_w": ("body", "rotation"), "root_link_quat_w": ("body", "rotation"), "quat_w": ("body", "rotation"),
    "root_ang_vel_b": ("body", "angular_velocity"), "root_link_ang_vel_b": ("body", "angular_velocity"),
    "root_com_ang_vel_b": ("body", "angular_velocity"), "ang_vel_b": ("body", "angular_velocity"),
    "root_lin_vel_b": ("body", "linear_velocity"), "root_link_lin_vel_b": ("body", "linear_velocity"),
    "root_com_lin_vel_b": ("body", "linear_velocity"), "lin_vel_b": ("body", "linear_velocity"),
}
_WRITE_PREFIXES: dict[str, tuple[str, str]] = {
    "set_joint_position_target": ("joint", "position"),
    "set_joint_velocity_target": ("joint", "velocity"),
    "set_joint_effort_target": ("joint", "effort"),
    "write_joint_stiffness_to_sim": ("gain", "kp"),
    "write_joint_damping_to_sim": ("gain", "kd"),
}
_KIND_STAGE = {"state": "state", "command": "command", "target": "write"}


def check_kind_matches_connection(kind: str | None, connection: Connection | None, fail: Callable[[str], Exception]
                                  ) -> None:
    """Both describe the port; when both are understood they must agree on stage and quantity."""
    if kind is None or connection is None:
        return
    said_by_kind = _from_kind(kind)
    if said_by_kind is None:
        return  # a kind outside the vocabulary: the binding reports it if it matters
    stage, meaning = said_by_kind
    if stage != connection.kind:
        raise fail(f"kind '{kind}' is a {stage} port but isaaclab_connection '{connection}' is a "
                   f"{connection.kind}: the two disagree")
    said_by_connection = _from_connection(connection)
    if meaning is not None and said_by_connection is not None and said_by_connection != meaning:
        raise fail(f"kind '{kind}' says {' '.join(meaning)} but isaaclab_connection '{connection}' says "
                   f"{' '.join(said_by_connection)}: the two disagree")


def _from_kind(kind: str) -> tuple[str, tuple[str, str] | None] | None:
    if kind in ("kp", "kd"):
        return "write", ("gain", kind)
    parts = kind.split("/")
    stage = _KIND_STAGE.get(parts[0])
    if stage is None:
        return None
    if len(parts) == 3 and parts[1] in ("joint", "body"):
        return stage, (parts[1], parts[2])
    return stage, None


def _from_connection(connection: Connection) -> tuple[str, str] | None:
    if connection.kind == "state":
        return _STATE_ATTRIBUTES.get(connection.attribute)
    if connection.kind == "write":
        return next((m for p, m in _WRITE_PREFIXES.items() if connection.attribute.startswith(p)), None)
    return None
