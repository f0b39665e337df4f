"""Build a SafetySupervisor from node parameters: safety settings, limits from a URDF or the parameter file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leapp_ros.safety.config import SafetyConfig
from leapp_ros.safety.limits import JointLimits, parse_parameter_limits, parse_urdf_limits, read_urdf_file
from leapp_ros.safety.supervisor import SafetySupervisor, WatchedInput
from leapp_ros.safety.watchdog import InputLedger


def resolve_limits(joint_names: Sequence[str], *, urdf: str | None = None, urdf_file: str | Path | None = None,
                   joint_limits: Mapping[str, Any] | None = None) -> tuple[JointLimits, list[str]]:
    """Limits per command joint: URDF text (robot_description) first, else a URDF file, else the parameter.

    Returns the limits and report lines (where the limits came from, joints without limits).
    """
    urdf_limits, source = None, None
    if urdf:
        urdf_limits, source = parse_urdf_limits(urdf, where="robot_description"), "robot_description"
    elif urdf_file:
        urdf_limits = parse_urdf_limits(read_urdf_file(urdf_file), where=f"URDF file '{urdf_file}'")
        source = f"URDF file '{urdf_file}'"
    limits, report = JointLimits.resolve(joint_names, urdf=urdf_limits,
                                         parameters=parse_parameter_limits(joint_limits))
    origins = [o for o in (source, "the joint_limits parameter" if joint_limits else None) if o]
    report.insert(0, "joint limits from " + (" then ".join(origins) if origins else
                                               "nowhere (no URDF, no joint_limits parameter)"))
    return limits, report


def build_supervisor(joint_names: Sequence[str], rate_hz: float, inputs: Sequence[WatchedInput],
                     safety: Mapping[str, Any] | None = None, *, ledger: InputLedger | None = None,
                     urdf: str | None = None,
                     urdf_file: str | Path | None = None,
                     joint_limits: Mapping[str, Any] | None = None) -> SafetySupervisor:
    """The supervisor the node creates at configure; its `report` lists what to log once."""
    limits, report = resolve_limits(joint_names, urdf=urdf, urdf_file=urdf_file, joint_limits=joint_limits)
    supervisor = SafetySupervisor(joint_names, limits, rate_hz, inputs, SafetyConfig.from_parameters(safety),
                                  ledger=ledger)
    supervisor.report[:0] = report
    return supervisor
