"""Safety parameters: defaults, validation and parsing from the node's parameter mapping."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leapp_ros.errors import ConfigurationError

COMMAND_INTERFACES = ("position_gains", "position")
INACTIVE_COMMANDS = ("none", "damp")
ESTOP_COMMANDS = ("damp", "hold", "none")
MULTIPLE_PUBLISHERS = ("warn", "hold")
PerJoint = float | Mapping[str, float]  # one value for every joint, or per joint name


@dataclass(frozen=True)
class SafetyConfig:
    """Every safety parameter (documented in docs/safety.md); parameter names are the field names."""

    command_interface: str = "position_gains"  # "position" = position only: DAMP falls back to HOLD
    ramp_in_duration_s: float = 2.0
    ramp_in_velocity_cap: PerJoint = 0.5  # rad/s (m/s for prismatic joints), also capped by the joint limit
    ramp_in_tolerance: float = 0.02  # RAMP_IN -> ACTIVE once every joint is this close to its target (rad)
    stale_periods: float = 3.0  # a required input older than this many control periods ...
    stale_floor_ms: float = 150.0  # ... and older than this (scheduling noise is not a stale robot) trips HOLD
    limit_margin: float = 0.1  # targets clamp to the limits; beyond limit +- margin (rad) -> HOLD
    velocity_limit_scale: float = 1.0  # |measured velocity| > scale * limit -> DAMP
    deadline_burst: int = 0  # this many missed deadlines (0 = half the window) ...
    deadline_window: int = 0  # ... within this many ticks (0 = one second of ticks) -> HOLD
    deadline_recover_s: float = 1.0  # a burst HOLD recovers (through RAMP_IN) after this long without a burst
    deadline_latch_bursts: int = 3  # the Nth burst since the last enable latches the HOLD until enabled
    auto_recover: bool = True  # leave stale/rejected-input HOLD by itself (through RAMP_IN)
    recover_periods: int = 10  # consecutive good ticks before recovering
    inactive_command: str = "none"  # INACTIVE publishes nothing, or "damp"
    estop_command: str = "damp"  # what ESTOP publishes: "damp", "hold" (measured pose) or "none"
    damping_kd: PerJoint = 2.0  # kd of the damping command
    hold_kp: PerJoint = 0.0  # gains for HOLD/RAMP_IN when the policy gave none yet (0 = use the policy's)
    hold_kd: PerJoint = 0.0
    clock_jump_s: float = 1.0  # a clock or stamp going back by more than this is a clock reset
    max_kp: PerJoint = 1000.0  # a published kp above this (or below 0) -> HOLD
    max_kd: PerJoint = 200.0  # a published kd above this (or below 0) -> HOLD
    max_step_rad: float = 1.0  # every position target is capped to measured position +- this (rad or m)
    allow_no_joint_limits: bool = False  # configure refuses commanded joints without position limits unless true
    inference_budget_periods: float = 10.0  # a tick running longer than this many periods (>= 50 ms) -> HOLD
    future_stamp_tolerance_s: float = 0.1  # a header stamp further ahead of the node's clock is dropped
    multiple_publishers: str = "warn"  # more than one publisher on a state topic: "warn" or "hold"

    def __post_init__(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ConfigurationError(f"safety parameter {message}")
        need(self.command_interface in COMMAND_INTERFACES,
             f"'command_interface' must be one of {COMMAND_INTERFACES}, got {self.command_interface!r}")
        need(self.inactive_command in INACTIVE_COMMANDS,
             f"'inactive_command' must be one of {INACTIVE_COMMANDS}, got {self.inactive_command!r}")
        need(self.estop_command in ESTOP_COMMANDS,
             f"'estop_command' must be one of {ESTOP_COMMANDS}, got {self.estop_command!r}")
        need(self.multiple_publishers in MULTIPLE_PUBLISHERS,
             f"'multiple_publishers' must be one of {MULTIPLE_PUBLISHERS}, got {self.multiple_publishers!r}")
        need(isinstance(self.allow_no_joint_limits, bool), "'allow_no_joint_limits' must be true or false")
        for name in ("ramp_in_duration_s", "limit_margin", "ramp_in_tolerance", "stale_floor_ms",
                     "deadline_recover_s"):
            need(_finite(getattr(self, name)) and getattr(self, name) >= 0, f"'{name}' must be >= 0")
        for name in ("stale_periods", "velocity_limit_scale", "clock_jump_s", "max_step_rad",
                     "inference_budget_periods", "future_stamp_tolerance_s"):
            need(_finite(getattr(self, name)) and getattr(self, name) > 0, f"'{name}' must be > 0")
        need(isinstance(self.deadline_window, int) and isinstance(self.deadline_burst, int)
             and self.deadline_window >= 0 and self.deadline_burst >= 0
             and (not self.deadline_window or self.deadline_burst <= self.deadline_window),
             "'deadline_burst' must be an integer between 1 and 'deadline_window' (0: the default)")
        need(isinstance(self.deadline_latch_bursts, int) and self.deadline_latch_bursts >= 1,
             "'deadline_latch_bursts' must be an integer >= 1")
        need(isinstance(self.recover_periods, int) and self.recover_periods >= 1, "'recover_periods' must be >= 1")
        for name in ("ramp_in_velocity_cap", "damping_kd", "hold_kp", "hold_kd", "max_kp", "max_kd"):
            value = getattr(self, name)
            values = value.values() if isinstance(value, Mapping) else [value]
            strict = name == "ramp_in_velocity_cap"
            need(all(_finite(v) and (v > 0 if strict else v >= 0) for v in values),
                 f"'{name}' must be {'> 0' if strict else '>= 0'} (a number or a joint -> number mapping)")

    @property
    def has_gains(self) -> bool:
        return self.command_interface == "position_gains"

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any] | None) -> SafetyConfig:
        """Build from a mapping of the field names (e.g. the node's `safety.*` parameters)."""
        parameters = dict(parameters or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(parameters) - set(fields))
        if unknown:
            raise ConfigurationError(f"unknown safety parameters {unknown} (known: {sorted(fields)})")
        values: dict[str, Any] = {}
        for name, raw in parameters.items():
            default = fields[name].default
            try:
                if isinstance(default, bool):
                    if not isinstance(raw, bool):
                        raise TypeError
                    values[name] = raw
                elif isinstance(default, int) and not isinstance(default, bool):
                    if isinstance(raw, bool) or int(raw) != raw:
                        raise TypeError
                    values[name] = int(raw)
                elif isinstance(default, float):
                    values[name] = dict(raw) if isinstance(raw, Mapping) else float(raw)
                else:
                    values[name] = str(raw)
            except (TypeError, ValueError):
                raise ConfigurationError(f"safety parameter '{name}' has the wrong type: {raw!r} "
                                         f"(expected {type(default).__name__})") from None
        return cls(**values)


def per_joint(value: PerJoint, names: tuple[str, ...], what: str) -> list[float]:
    """Expand a scalar or a joint mapping to the joint order; unknown joint names are an error."""
    if not isinstance(value, Mapping):
        return [float(value)] * len(names)
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise ConfigurationError(f"safety parameter '{what}' names joints the robot command lacks: {unknown}")
    missing = [n for n in names if n not in value]
    if missing:
        raise ConfigurationError(f"safety parameter '{what}' lacks joints {missing}")
    return [float(value[n]) for n in names]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
