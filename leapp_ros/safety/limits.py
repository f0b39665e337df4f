"""Joint limits (position, velocity, effort) from a URDF or a parameter mapping, in command joint order."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from leapp_ros.errors import ConfigurationError

INF = math.inf
LIMITED_TYPES = ("revolute", "prismatic")
UNLIMITED_TYPES = ("continuous",)
PARAMETER_KEYS = {"lower", "upper", "velocity", "effort"}


@dataclass(frozen=True)
class JointLimit:
    """Limits of one joint; +-inf where the joint has none (continuous joints have no position limit)."""

    name: str
    lower: float = -INF
    upper: float = INF
    velocity: float = INF
    effort: float = INF
    continuous: bool = False
    source: str = "none"  # "urdf", "urdf safety_controller", "parameters" or "none"

    @property
    def has_position_limits(self) -> bool:
        return math.isfinite(self.lower) and math.isfinite(self.upper)


def parse_urdf_limits(urdf: str, *, use_soft_limits: bool = True, where: str = "URDF") -> dict[str, JointLimit]:
    """Every movable joint of a URDF document with its limits; fixed/floating/planar joints are skipped.

    A `<safety_controller>` with soft limits tightens the position range when `use_soft_limits`.
    """
    try:
        root = ET.fromstring(urdf)
    except ET.ParseError as exc:
        raise ConfigurationError(f"{where} is not valid XML: {exc}") from None
    if root.tag != "robot":
        raise ConfigurationError(f"{where}: the root element is <{root.tag}>, expected <robot>")
    limits: dict[str, JointLimit] = {}
    for joint in root.iter("joint"):
        name, kind = joint.get("name"), joint.get("type")
        if not name or kind not in (*LIMITED_TYPES, *UNLIMITED_TYPES):
            continue  # fixed, floating, planar joints or <joint> references inside transmissions
        element = joint.find("limit")
        what = f"{where} joint '{name}'"
        lower = upper = None
        velocity = effort = INF
        if element is not None:
            velocity = _attribute(element, "velocity", what, INF)
            effort = _attribute(element, "effort", what, INF)
            if kind in LIMITED_TYPES:
                lower = _attribute(element, "lower", what, 0.0)  # URDF defaults both to 0
                upper = _attribute(element, "upper", what, 0.0)
        source = "urdf" if element is not None else "none"
        soft = joint.find("safety_controller")
        if use_soft_limits and soft is not None and lower is not None and upper is not None:
            soft_lower = _attribute(soft, "soft_lower_limit", what, lower)
            soft_upper = _attribute(soft, "soft_upper_limit", what, upper)
            if (soft_lower, soft_upper) != (lower, upper):
                lower, upper = max(lower, soft_lower), min(upper, soft_upper)
                source = "urdf safety_controller"
        # URDFs often write velocity="0"/effort="0" for "not given"; treat those as no limit.
        limits[name] = JointLimit(name, -INF if lower is None else lower, INF if upper is None else upper,
                                  velocity if velocity > 0 else INF, effort if effort > 0 else INF,
                                  continuous=kind == "continuous", source=source)
    return limits


def parse_parameter_limits(raw: Any, where: str = "parameter 'joint_limits'") -> dict[str, JointLimit]:
    """`{joint: {lower, upper, velocity, effort}}` (any subset of keys; missing ones mean no limit)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{where} must be a mapping joint -> {{lower, upper, velocity, effort}}")
    limits = {}
    for name, entry in raw.items():
        what = f"{where} joint '{name}'"
        if not isinstance(entry, Mapping):
            raise ConfigurationError(f"{what} must be a mapping with keys {sorted(PARAMETER_KEYS)}")
        unknown = set(entry) - PARAMETER_KEYS
        if unknown:
            raise ConfigurationError(f"{what} has unknown keys {sorted(unknown)} (known: {sorted(PARAMETER_KEYS)})")
        values = {key: _number(entry.get(key), what, key, default) for key, default in
                  (("lower", -INF), ("upper", INF), ("velocity", INF), ("effort", INF))}
        limit = JointLimit(str(name), lower=values["lower"], upper=values["upper"], velocity=values["velocity"],
                           effort=values["effort"], source="parameters")
        _check(limit, where)
        limits[str(name)] = limit
    return limits


def read_urdf_file(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"URDF file '{path}' cannot be read: {exc}") from None


class JointLimits:
    """Limits as arrays aligned with the command joint order (what the per-tick filters index)."""

    def __init__(self, limits: Sequence[JointLimit]) -> None:
        self.joints = tuple(limits)
        self.names = tuple(limit.name for limit in limits)
        self.lower = np.array([limit.lower for limit in limits], dtype=np.float64)
        self.upper = np.array([limit.upper for limit in limits], dtype=np.float64)
        self.velocity = np.array([limit.velocity for limit in limits], dtype=np.float64)
        self.effort = np.array([limit.effort for limit in limits], dtype=np.float64)
        for array in (self.lower, self.upper, self.velocity, self.effort):
            array.setflags(write=False)

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def unlimited(cls, names: Sequence[str]) -> JointLimits:
        return cls([JointLimit(name) for name in names])

    @classmethod
    def resolve(cls, names: Sequence[str], *, urdf: Mapping[str, JointLimit] | None = None,
                parameters: Mapping[str, JointLimit] | None = None) -> tuple[JointLimits, list[str]]:
        """Per joint: the URDF's limits when it has the joint, else the parameters', else none.

        Returns the limits and one report line per kind of gap (the joints that lack limits, listed together).
        """
        urdf, parameters = urdf or {}, parameters or {}
        chosen: list[JointLimit] = []
        gaps: dict[str, list[str]] = {}  # "has no limits: <where>" / "has no velocity limit (<source>)" -> joints
        for name in names:
            if urdf.get(name) is not None:
                _check(urdf[name], "URDF")  # only the joints we command must have sane limits
            limit = urdf.get(name)
            if limit is None or limit.source == "none":
                limit = parameters.get(name, limit)
            if limit is None:
                where = "in neither the URDF nor the joint_limits parameter" if urdf else \
                    "not in the joint_limits parameter (no URDF)"
                gaps.setdefault(f"no limits: {where}", []).append(name)
                limit = JointLimit(name)
            else:
                missing = [what for what, ok in (("position", limit.has_position_limits or limit.continuous),
                                                 ("velocity", math.isfinite(limit.velocity))) if not ok]
                if missing:
                    gaps.setdefault(f"no {' or '.join(missing)} limit ({limit.source})", []).append(name)
            chosen.append(limit)
        report = [f"joint '{joints[0]}' has {gap}" if len(joints) == 1 else
                  f"{len(joints)} joints have {gap}: {', '.join(joints)}" for gap, joints in gaps.items()]
        return cls(chosen), report


def _attribute(element: ET.Element, key: str, what: str, default: float) -> float:
    text = element.get(key)
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        raise ConfigurationError(f"{what}: <{element.tag} {key}=\"{text}\"> is not a number") from None


def _number(value: Any, what: str, key: str, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool):
        raise ConfigurationError(f"{what}: '{key}' must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{what}: '{key}' must be a number, got {value!r}") from None


def _check(limit: JointLimit, where: str) -> None:
    what = f"{where} joint '{limit.name}'"
    if math.isnan(limit.lower) or math.isnan(limit.upper) or limit.lower > limit.upper:
        raise ConfigurationError(f"{what}: lower limit {limit.lower} is above upper limit {limit.upper}")
    if not limit.velocity > 0:
        raise ConfigurationError(f"{what}: velocity limit must be positive, got {limit.velocity}")
    if not limit.effort >= 0:
        raise ConfigurationError(f"{what}: effort limit must not be negative, got {limit.effort}")
