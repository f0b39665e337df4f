"""Command terms: the shape and semantics of a ``command:<name>`` input."""

from __future__ import annotations

from dataclasses import dataclass

from leapp_export.env_config import CommandTerm, EnvConfig
from leapp_export.errors import ExportError

_VELOCITY = ("command/body/velocity", ["lin_vel_x", "lin_vel_y", "ang_vel_z"])
_POSE = ("command/body/pose", ["x", "y", "z", "qx", "qy", "qz", "qw"])
_POSE2D = ("command/body/pose", ["x", "y", "z", "heading"])

# class name -> (default cmd_kind, default element_names), as the command terms set them when the cfg says None
COMMAND_DEFAULTS = {
    "UniformVelocityCommand": _VELOCITY,
    "NormalVelocityCommand": _VELOCITY,
    "UniformPoseCommand": _POSE,
    "UniformPose2dCommand": _POSE2D,
    "TerrainBasedPose2dCommand": _POSE2D,
}


@dataclass
class CommandInput:
    name: str
    kind: str | None
    element_names: list[str] | None
    ranges: list[tuple[float, float]]  # per element, used only to synthesise capture values


def command_input(env: EnvConfig, name: str) -> CommandInput:
    """Resolve the ``command:<name>`` input of a generated_commands term."""
    term: CommandTerm | None = env.commands.get(name)
    if term is None:
        raise ExportError(f"{env.path}: generated_commands reads command '{name}' but commands has "
                          f"{sorted(env.commands)}")
    if term.class_name not in COMMAND_DEFAULTS:
        raise ExportError(f"{env.path}: commands.{name} is a '{term.class_name}', not a standard command term "
                          f"({sorted(COMMAND_DEFAULTS)}); use isaaclab leapp export")
    kind, names = COMMAND_DEFAULTS[term.class_name]
    kind = term.cmd_kind if term.cmd_kind is not None else kind
    names = list(term.element_names) if term.element_names is not None else list(names)
    raw_ranges = (env.raw["commands"][name] or {}).get("ranges") or {}
    ranges = []
    for element in names:
        r = raw_ranges.get(element) if isinstance(raw_ranges, dict) else None
        ranges.append((float(r[0]), float(r[1])) if isinstance(r, (list, tuple)) and len(r) == 2 else (-1.0, 1.0))
    return CommandInput(name, kind, names, ranges)
