"""Parse `isaaclab_connection` strings (`state:`, `command:`, `write:`) into typed values."""

from __future__ import annotations

from dataclasses import dataclass

from leapp_ros.text import quote


@dataclass(frozen=True)
class Connection:
    """Where Isaac Lab read an input from or wrote an output to.

    `state:robot:joint_pos` -> kind "state", entity "robot", attribute "joint_pos";
    `state:cam:output.rgb` -> attribute "output", key "rgb";
    `command:base_velocity` -> kind "command", entity None, attribute "base_velocity";
    `write:robot:set_joint_position_target_index` -> kind "write".
    """

    kind: str
    entity: str | None
    attribute: str
    key: str | None = None

    def __str__(self) -> str:
        if self.kind == "command":
            return f"command:{self.attribute}"
        suffix = f".{self.key}" if self.key else ""
        return f"{self.kind}:{self.entity}:{self.attribute}{suffix}"


def parse_connection(text: str) -> Connection:
    """Parse one connection string; raise ValueError naming the problem."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"isaaclab_connection must be a non-empty string, got {quote(text)}")
    parts = text.split(":")
    kind = parts[0]
    if kind == "command":
        if len(parts) != 2 or not parts[1]:
            raise ValueError(f"isaaclab_connection {quote(text)}: expected 'command:<name>'")
        return Connection("command", None, parts[1])
    if kind in ("state", "write"):
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise ValueError(f"isaaclab_connection {quote(text)}: expected '{kind}:<entity>:<attribute>'")
        attribute, _, key = parts[2].partition(".")
        if kind == "write" and key:
            raise ValueError(f"isaaclab_connection {quote(text)}: write targets take no '.key'")
        return Connection(kind, parts[1], attribute, key or None)
    raise ValueError(f"isaaclab_connection {quote(text)}: unknown form '{kind}' (known: state, command, write)")
