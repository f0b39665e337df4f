"""Joints the policy does not drive, held at a default pose with their gains (from a vendor block or parameters)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leapp_ros.errors import ConfigurationError

PARAM_PREFIX = "held_joints."  # held_joints.<joint>.{position,kp,kd}; held_joints.from_vendor_block: false
FIELDS = ("position", "kp", "kd")
# Spellings accepted in a vendor block, per field.
_ALIASES = {
    "position": ("default_joint_pos", "default_pos", "default_position", "default_positions", "default_angles",
                 "position", "positions", "pos"),
    "kp": ("kp", "kps", "stiffness", "stiffnesses", "p_gains"),
    "kd": ("kd", "kds", "damping", "dampings", "d_gains"),
}
_NAME_LISTS = ("joint_names", "joints", "names")
_MAX_DEPTH = 4


@dataclass(frozen=True)
class HeldJoint:
    """A joint commanded at a fixed position with fixed gains; `source` says where the numbers came from."""

    name: str
    position: float
    kp: float | None
    kd: float | None
    source: str


def held_joints(vendor: Mapping[str, Any], params: Mapping[str, Any], driven: set[str]) -> tuple[HeldJoint, ...]:
    """Held joints: the vendor block's defaults (unless disabled) overridden per field by parameters.

    Joints the policy drives (`driven`) are never held: the policy's targets win.
    """
    family = {k[len(PARAM_PREFIX):]: v for k, v in params.items() if k.startswith(PARAM_PREFIX)}
    use_vendor = family.pop("from_vendor_block", True)
    found: dict[str, dict[str, Any]] = {}
    sources: dict[str, list[str]] = {}
    if use_vendor:
        for block, value in vendor.items():
            for joint, fields in _search(value, depth=0).items():
                if joint not in found:
                    found[joint] = dict(fields)
                    sources[joint] = [f"vendor block '{block}'"]
    for key, value in family.items():
        joint, _, field = key.rpartition(".")
        if not joint or field not in FIELDS:
            raise ConfigurationError(f"parameter '{PARAM_PREFIX}{key}': expected '{PARAM_PREFIX}<joint>.<"
                                     f"{'|'.join(FIELDS)}>' or '{PARAM_PREFIX}from_vendor_block'")
        found.setdefault(joint, {})[field] = value
        sources.setdefault(joint, [])
        if f"parameters {PARAM_PREFIX}{joint}.*" not in sources[joint]:
            sources[joint].append(f"parameters {PARAM_PREFIX}{joint}.*")
    result = []
    for joint, fields in found.items():
        if joint in driven:
            continue
        where = " + ".join(sources[joint])
        if fields.get("position") is None:
            raise ConfigurationError(f"held joint '{joint}' ({where}) has no default position; give it with the "
                                     f"parameter line  {PARAM_PREFIX}{joint}.position: <radians>")
        values = {f: _number(fields[f], joint, f, where) if fields.get(f) is not None else None for f in FIELDS}
        result.append(HeldJoint(joint, values["position"], values["kp"], values["kd"], where))  # type: ignore[arg-type]
    return tuple(result)


def _number(value: Any, joint: str, field: str, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or (field != "position" and number < 0):
        raise ConfigurationError(f"held joint '{joint}' ({where}): {field} must be a finite "
                                 f"{'number' if field == 'position' else 'non-negative number'}, got {value!r}")
    return number


def _search(value: Any, depth: int) -> dict[str, dict[str, Any]]:
    """The first joint table found in a vendor block: per-joint mappings, entry lists, or parallel lists."""
    if depth > _MAX_DEPTH:
        return {}
    if isinstance(value, dict):
        table = _parallel_lists(value) or _per_joint(value)
        if table:
            return table
        for child in value.values():
            table = _search(child, depth + 1)
            if table:
                return table
    elif isinstance(value, list) and value and all(isinstance(e, dict) and isinstance(e.get("name"), str)
                                                    for e in value):
        table = {e["name"]: _fields(e) for e in value}
        if all("position" in f for f in table.values()):
            return table
    return {}


def _fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    fields = {}
    for field, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in entry:
                fields[field] = entry[alias]
                break
    return fields


def _per_joint(value: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{joint: {default_pos: .., kp: .., kd: ..}, ...}"""
    if not value or not all(isinstance(k, str) and isinstance(v, dict) for k, v in value.items()):
        return {}
    table = {k: _fields(v) for k, v in value.items()}
    scalar = all("position" in f and not isinstance(f["position"], (list, dict)) for f in table.values())
    return table if scalar else {}


def _parallel_lists(value: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{joint_names: [...], default_joint_pos: [...], stiffness: [...] or a scalar, damping: ...}, or columns
    keyed by joint: {default_joint_pos: {joint: rad}, stiffness: {joint: kp}, ...}"""
    columns = _fields(value)
    if "position" not in columns:
        return {}
    names = next((value[k] for k in _NAME_LISTS if isinstance(value.get(k), list)), None)
    if names is None and isinstance(columns["position"], dict):  # {default_joint_pos: {joint: rad}, stiffness: ...}
        names = list(columns["position"])
        columns = {f: [c.get(n) for n in names] if isinstance(c, dict) else c for f, c in columns.items()}
    if not names or not all(isinstance(n, str) for n in names):
        return {}
    table: dict[str, dict[str, Any]] = {n: {} for n in names}
    for field, column in columns.items():
        if isinstance(column, list):
            if len(column) != len(names):
                return {}
            for name, item in zip(names, column):
                table[name][field] = item
        else:
            for name in names:
                table[name][field] = column
    return table
