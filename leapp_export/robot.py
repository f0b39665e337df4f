"""The articulation facts an offline export must know: joint order, default pose and PD gains."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from leapp_export.env_config import EnvConfig
from leapp_export.errors import ExportError
from leapp_export.isaaclab_yaml import load_isaaclab_yaml
from leapp_export.names import match_names, match_values

JOINT_ORDER_WHY = (
    "the exported joint vectors (inputs, targets, gains) are in the articulation's public joint order at export "
    "time; Isaac Lab takes it from ArticulationCfg.joint_ordering when set, otherwise from the physics backend's "
    "solver order (PhysX and Newton/MJWarp differ), and env.yaml does not record it. A wrong order silently "
    "sends each joint another joint's target, so the exporter refuses to guess")

GAINS_WHY = (
    "Isaac Lab exports the kp/kd the simulator used; for actuators whose cfg leaves stiffness/damping None "
    "(actuator nets, USD-driven gains) those are the USD drive values, which env.yaml does not hold. Pass "
    "--gains FILE (YAML/JSON with 'stiffness' and 'damping', each a number or a {joint regex: value} map) "
    "or --gains zero to export zeros as the reference exporter does without the USD")


@dataclass
class Robot:
    """Joint order plus the baked per-joint constants, all in that order."""

    entity: str
    joint_names: list[str]
    default_joint_pos: list[float]
    default_joint_vel: list[float]
    stiffness: list[float]
    damping: list[float]


def read_joint_names(spec: str | Sequence[str]) -> list[str]:
    """Joint names from a list, a comma-separated string or a file with one name per line."""
    if not isinstance(spec, str):
        names = [str(n).strip() for n in spec]
    elif Path(spec).is_file():
        names = [line.split("#", 1)[0].strip() for line in Path(spec).read_text().splitlines()]
    elif "," in spec or spec.strip() and not Path(spec).suffix:
        names = [n.strip() for n in spec.split(",")]
    else:
        raise ExportError(f"joint names file '{spec}' does not exist")
    names = [n for n in names if n]
    if not names:
        raise ExportError(f"joint names '{spec}' list no joint")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ExportError(f"joint names '{spec}' list joint(s) {dup} more than once")
    return names


def urdf_joint_names(path: str) -> list[str]:
    """Movable joints of a URDF, in document order."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise ExportError(f"cannot read URDF '{path}': {exc}") from exc
    return [str(j.get("name")) for j in root.iter("joint") if j.get("type") not in ("fixed", "floating", "planar")]


def resolve_joint_order(env: EnvConfig, entity: str, joint_names: str | Sequence[str] | None,
                        urdf: str | None) -> list[str]:
    """The articulation's joint order: env.yaml joint_ordering, else explicit names (cross-checked with a URDF)."""
    recorded = env.scene_entity(entity).get("joint_ordering")
    names: list[str] | None
    if joint_names == "urdf":
        if not urdf:
            raise ExportError("--joint_names urdf needs --urdf FILE")
        names = urdf_joint_names(urdf)
    else:
        names = read_joint_names(joint_names) if joint_names else None
    if recorded:
        recorded = [str(n) for n in recorded]
        if names is not None and names != recorded:
            raise ExportError(f"joint names {names} differ from scene.{entity}.joint_ordering {recorded} "
                              f"recorded in {env.path}")
        names = recorded
    if names is None:
        raise ExportError(f"the joint order of '{entity}' is unknown: pass --joint_names FILE (one name per line, "
                          f"in the order Isaac Lab reported at training time) or --urdf FILE --joint_names urdf; "
                          f"why: {JOINT_ORDER_WHY}")
    if urdf and joint_names != "urdf":
        movable = urdf_joint_names(urdf)
        unknown = [n for n in names if n not in movable]
        if unknown:
            others = f" (nor are {unknown[1:]})" if unknown[1:] else ""
            raise ExportError(f"joint '{unknown[0]}' from --joint_names is not a movable joint of URDF '{urdf}'"
                              f"{others}; its movable joints: {movable}")
        absent = [n for n in movable if n not in names]
        if absent:
            raise ExportError(f"--joint_names lists {len(names)} of the {len(movable)} movable joints of URDF "
                              f"'{urdf}': {absent} missing")
    if recorded is None:
        check_actuated(env, entity, names)
    return names


def check_actuated(env: EnvConfig, entity: str, names: list[str]) -> None:
    """Every joint named on the command line must be driven by one of the articulation's actuator groups (their
    joint_names_expr regexes): a name none of them matches is misspelt or belongs to another robot."""
    groups = env.scene_entity(entity).get("actuators") or {}
    exprs = [str(e) for cfg in groups.values() if isinstance(cfg, dict) for e in cfg.get("joint_names_expr") or []]
    if not exprs:
        return
    stray = [n for n in names if not any(re.fullmatch(e, n) for e in exprs)]
    if stray:
        raise ExportError(f"joint '{stray[0]}' from --joint_names matches no actuator of scene.{entity}.actuators "
                          f"in {env.path} (joint_names_expr {exprs})" + (f"; nor do {stray[1:]}" if stray[1:] else "")
                          + ": misspelt, or a joint of another robot?")


def _per_joint(value, names: list[str], where: str, default: float | None) -> list[float | None]:
    if value is None:
        return [default] * len(names)
    if isinstance(value, (int, float)):
        return [float(value)] * len(names)
    if isinstance(value, dict):
        out: list[float | None] = [default] * len(names)
        for index, v in match_values(value, names, where).items():
            out[index] = None if v is None else float(v)
        return out
    raise ExportError(f"{where}: expected a number or a {{joint regex: value}} map, got {value!r}")


def _gains_from_cfg(env: EnvConfig, entity: str, names: list[str]) -> tuple[list, list]:
    stiffness: list[float | None] = [None] * len(names)
    damping: list[float | None] = [None] * len(names)
    for group, cfg in (env.scene_entity(entity).get("actuators") or {}).items():
        where = f"{env.path}: scene.{entity}.actuators.{group}"
        exprs = cfg.get("joint_names_expr") or []
        for index in match_names(exprs, names, preserve_order=False, where=where + ".joint_names_expr"):
            kp = _per_joint(cfg.get("stiffness"), names, where + ".stiffness", None)[index]
            kd = _per_joint(cfg.get("damping"), names, where + ".damping", None)[index]
            stiffness[index], damping[index] = kp, kd
    return stiffness, damping


def _gains_from_file(path: str, names: list[str]) -> tuple[list, list]:
    try:
        data = json.loads(Path(path).read_text()) if path.endswith(".json") else load_isaaclab_yaml(path)
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read gains file '{path}': {exc}") from exc
    if not isinstance(data, dict) or "stiffness" not in data or "damping" not in data:
        raise ExportError(f"gains file '{path}' must hold 'stiffness' and 'damping'")
    return (_per_joint(data["stiffness"], names, f"{path}: stiffness", None),
            _per_joint(data["damping"], names, f"{path}: damping", None))


def build_robot(env: EnvConfig, entity: str, joint_names, urdf: str | None, gains: str) -> Robot:
    """Resolve joint order, default joint pose/velocity (init_state regexes) and kp/kd for one articulation."""
    names = resolve_joint_order(env, entity, joint_names, urdf)
    cfg = env.scene_entity(entity)
    init = cfg.get("init_state") or {}
    where = f"{env.path}: scene.{entity}.init_state"
    pos = _per_joint(init.get("joint_pos") or {}, names, where + ".joint_pos", 0.0)
    vel = _per_joint(init.get("joint_vel") or {}, names, where + ".joint_vel", 0.0)
    if gains == "zero":
        kp, kd = [0.0] * len(names), [0.0] * len(names)
    elif gains == "cfg":
        kp, kd = _gains_from_cfg(env, entity, names)
    else:
        kp, kd = _gains_from_file(gains, names)
    missing = [n for n, a, b in zip(names, kp, kd) if a is None or b is None]
    if missing:
        source = "env.yaml actuator cfg" if gains == "cfg" else f"gains file '{gains}'"
        raise ExportError(f"no stiffness/damping for joint(s) {missing} in the {source}; {GAINS_WHY}")
    checked: dict[str, list[float]] = {}
    for label, values in (("default position", pos), ("default velocity", vel), ("stiffness", kp), ("damping", kd)):
        for n, value in zip(names, values):
            if value is None or not math.isfinite(value):
                raise ExportError(f"joint '{n}': non-finite {label} {value}")
        checked[label] = [float(v) for v in values if v is not None]
    return Robot(entity, names, checked["default position"], checked["default velocity"], checked["stiffness"],
                 checked["damping"])
