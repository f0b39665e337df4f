"""Build the node's diagnostic_msgs/DiagnosticArray from plain key/values (rate, latency, inputs, safety)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from leapp_ros.message_types import DIAGNOSTIC_ARRAY, DIAGNOSTIC_STATUS, KEY_VALUE

OK, WARN, ERROR = 0, 1, 2


def build_diagnostics(new_message: Callable[..., Any], stamp_ns: int, name: str, hardware_id: str, level: int,
                      message: str, values: Mapping[str, str]) -> Any:
    """One DiagnosticArray holding one DiagnosticStatus (allocates: called at the diagnostics period)."""
    status = new_message(DIAGNOSTIC_STATUS)
    status.level = level if not isinstance(status.level, bytes) else bytes([level])
    status.name = name
    status.message = message
    status.hardware_id = hardware_id
    status.values = [new_message(KEY_VALUE, key=str(k), value=str(v)) for k, v in values.items()]
    array = new_message(DIAGNOSTIC_ARRAY)
    array.header.stamp.sec, array.header.stamp.nanosec = divmod(int(stamp_ns), 1_000_000_000)
    array.status = [status]
    return array


def age_text(age_s: float) -> str:
    return "never received" if not math.isfinite(age_s) else f"{age_s * 1e3:.1f} ms"
