"""Element vocabularies: map a port's element names (x/qx/w, lin_vel_x/lin_x ...) onto message components."""

from __future__ import annotations

from leapp_ros.binding.roles import Role

# Canonical component names a decoder fills (see `decoders.LAYOUTS`).
QUATERNION = {"x": "orientation.x", "qx": "orientation.x", "quat_x": "orientation.x",
              "y": "orientation.y", "qy": "orientation.y", "quat_y": "orientation.y",
              "z": "orientation.z", "qz": "orientation.z", "quat_z": "orientation.z",
              "w": "orientation.w", "qw": "orientation.w", "quat_w": "orientation.w"}
_XYZ = {"x": "x", "y": "y", "z": "z"}
TWIST = {}
for _axis in "xyz":
    for _alias in (f"lin_vel_{_axis}", f"lin_{_axis}", f"linear_{_axis}", f"v{_axis}", f"linear.{_axis}"):
        TWIST[_alias] = f"linear.{_axis}"
    for _alias in (f"ang_vel_{_axis}", f"ang_{_axis}", f"angular_{_axis}", f"w{_axis}", f"angular.{_axis}"):
        TWIST[_alias] = f"angular.{_axis}"
TWIST["yaw_rate"] = "angular.z"
POSITION = {"x": "position.x", "y": "position.y", "z": "position.z",
            "pos_x": "position.x", "pos_y": "position.y", "pos_z": "position.z",
            "px": "position.x", "py": "position.y", "pz": "position.z"}
POSE = {**POSITION, **{k: v for k, v in QUATERNION.items() if k not in ("x", "y", "z", "w")},
        "heading": "heading", "yaw": "heading"}

# Default element order when a port has a kind but no element names (Isaac Lab 3.0 conventions).
DEFAULT_NAMES: dict[Role, tuple[str, ...]] = {
    Role.BASE_ANGULAR_VELOCITY: ("x", "y", "z"),
    Role.BASE_LINEAR_VELOCITY: ("x", "y", "z"),
    Role.PROJECTED_GRAVITY: ("x", "y", "z"),
    Role.COMMAND_BODY_VELOCITY: ("lin_vel_x", "lin_vel_y", "ang_vel_z"),
    Role.COMMAND_POSITION: ("x", "y", "z"),
}


def vocabulary(role: Role) -> tuple[str, dict[str, str]]:
    """(component group prefix, element name -> component) for a vector-valued role."""
    try:
        return _VOCABULARIES[role]
    except KeyError:
        raise ValueError(f"role {role.name} is not a vector role") from None


_VOCABULARIES: dict[Role, tuple[str, dict[str, str]]] = {
    Role.BASE_ORIENTATION: ("", QUATERNION),
    Role.COMMAND_ROTATION: ("", QUATERNION),
    Role.BASE_ANGULAR_VELOCITY: ("angular_velocity.", _XYZ),
    Role.BASE_LINEAR_VELOCITY: ("linear_velocity.", _XYZ),
    Role.PROJECTED_GRAVITY: ("projected_gravity.", _XYZ),
    Role.COMMAND_BODY_VELOCITY: ("", TWIST),
    Role.COMMAND_POSITION: ("", POSITION),
    Role.COMMAND_POSE: ("", POSE),
}


def components(role: Role, names: tuple[str, ...], where: str) -> tuple[str, ...]:
    """The message component for each element name, in the port's order; ValueError names a bad element."""
    prefix, table = vocabulary(role)
    result = []
    for name in names:
        component = table.get(name.strip().lower())
        if component is None:
            raise ValueError(f"{where}: element name '{name}' is not a known {role.value} component "
                             f"(known: {', '.join(sorted(table))})")
        result.append(prefix + component)
    if len(set(result)) != len(result):
        raise ValueError(f"{where}: element names {list(names)} name the same component twice")
    if role in (Role.BASE_ORIENTATION, Role.COMMAND_ROTATION) and len(result) != 4:
        raise ValueError(f"{where}: a quaternion needs 4 element names, got {list(names)}")
    return tuple(result)
