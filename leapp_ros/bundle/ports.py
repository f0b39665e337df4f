"""Parse and check one YAML port description into a `Port`."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from leapp_ros.bundle import bounds
from leapp_ros.bundle.connection import parse_connection
from leapp_ros.bundle.contradictions import check_kind_matches_connection
from leapp_ros.bundle.model import AxisNames, Port
from leapp_ros.text import quote

# leapp's dtype vocabulary that maps onto numpy; bfloat16 and unsigned >8-bit have no numpy/torch runtime mapping.
NUMPY_DTYPES: dict[str, np.dtype] = {
    name: np.dtype(name)
    for name in ("float64", "float32", "float16", "int8", "int16", "int32", "int64", "uint8", "bool")
}
UNSUPPORTED_DTYPES = {"bfloat16": "bfloat16 has no numpy representation",
                      "uint16": "leapp has no torch mapping for uint16",
                      "uint32": "leapp has no torch mapping for uint32",
                      "uint64": "leapp has no torch mapping for uint64"}
TEMPORAL_AXIS = "__temporal_axis__"
KNOWN_PORT_KEYS = {"name", "dtype", "shape", "type", "kind", "element_names", "temporal_period_ms",
                   "isaaclab_connection", "is_state"}

Fail = Callable[[str], Exception]


def parse_port(raw: Any, node: str, direction: str, index: int, fail: Callable[..., Exception],
               note: Callable[[str], None] | None = None) -> Port:
    """Build a Port from its YAML mapping; `fail(message, port=...)` makes the error to raise.

    With `note`, labels that do not fit their axis (they never matter to the engine) are dropped and
    reported through `note` instead of refused; binding then asks for them by parameter.
    """
    where = f"{direction} #{index}"
    if not isinstance(raw, dict):
        raise fail(f"{where} must be a mapping, got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise fail(f"{where} has no 'name'" if name is None else f"{where}: 'name' must be a string, got {quote(name)}")
    bounds.name(name, "port name", lambda m: fail(m, port=name))
    if "/" in name:
        raise fail("port names must not contain '/' (runtime keys are split on '/')", port=name)
    for key in ("dtype", "shape", "type"):
        if key not in raw:
            raise fail(f"missing required key '{key}'", port=name)
    if raw["type"] != "tensor":
        raise fail(f"unsupported port type {quote(raw['type'])} (only 'tensor')", port=name)
    dtype = _parse_dtype(raw["dtype"], lambda m: fail(m, port=name))
    shape = _parse_shape(raw["shape"], lambda m: fail(m, port=name))
    bounds.shape(shape, lambda m: fail(m, port=name))
    unplaced: list[tuple[str, ...]] = []

    def label_defect(message: str, axis: int, names: tuple[str, ...]) -> None:
        if note is None:
            raise fail(message, port=name)
        note(f"port '{node}/{name}': {message}; those labels are ignored (binding asks for them by parameter)")
        if axis == len(shape) - 1:
            unplaced.append(names)

    element_names = _align_element_names(raw.get("element_names"), shape, lambda m: fail(m, port=name),
                                         label_defect)
    kind = raw.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise fail(f"'kind' must be a string, got {quote(kind)}", port=name)
    connection = None
    if raw.get("isaaclab_connection") is not None:
        try:
            connection = parse_connection(raw["isaaclab_connection"])
        except ValueError as exc:
            raise fail(str(exc), port=name) from None
        expected = ("state", "command") if direction == "input" else ("write",)
        if connection.kind not in expected:
            raise fail(f"isaaclab_connection '{connection}' cannot be an {direction}", port=name)
        check_kind_matches_connection(kind, connection, lambda m: fail(m, port=name))
    if not isinstance(raw.get("is_state", False), bool):
        raise fail(f"'is_state' must be true or false, got {quote(raw['is_state'])}", port=name)
    extra = {k: v for k, v in raw.items() if k not in KNOWN_PORT_KEYS}
    return Port(node=node, name=name, direction=direction, dtype=dtype, shape=shape, kind=kind,
                element_names=element_names, connection=connection,
                is_state=bool(raw.get("is_state", False)), unplaced_names=unplaced[0] if unplaced else None,
                extra=MappingProxyType(extra))


def _parse_dtype(value: Any, fail: Fail) -> np.dtype:
    if not isinstance(value, str):
        raise fail(f"dtype must be a string, got {quote(value)}")
    if value in UNSUPPORTED_DTYPES:
        raise fail(f"dtype '{value}' is not supported: {UNSUPPORTED_DTYPES[value]}")
    if value not in NUMPY_DTYPES:
        raise fail(f"unknown dtype {quote(value)} (known: {', '.join(NUMPY_DTYPES)})")
    return NUMPY_DTYPES[value]


def _parse_shape(value: Any, fail: Fail) -> tuple[int, ...]:
    if isinstance(value, str):  # InferenceManager accepts a JSON string too
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise fail(f"shape {quote(value)} is neither a list nor a JSON list") from None
    if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        raise fail(f"shape must be a list of integers (static shapes only), got {quote(value)}")
    if any(d < 0 for d in value):
        raise fail(f"shape {quote(value)} has a negative dimension")
    return tuple(value)


def _align_element_names(value: Any, shape: tuple[int, ...], fail: Fail,
                         defect: Callable[[str, int, tuple[str, ...]], None]) -> tuple[AxisNames, ...] | None:
    """Normalise leapp's shorthands and align the labelled axes to the tensor's axes.

    leapp 0.7 labels the trailing axes (the batch axis is never labelled); leapp 0.3 labels every
    axis. Both satisfy: as many entries as axes -> from axis 0, fewer -> the trailing axes.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = [[value]]
    elif isinstance(value, list) and value and all(isinstance(v, str) and v != TEMPORAL_AXIS for v in value):
        value = [value]
    if not isinstance(value, list):
        raise fail(f"element_names must be a list, got {type(value).__name__}")
    if len(value) > len(shape):
        raise fail(f"element_names label {len(value)} axes but the shape {list(shape)} has {len(shape)}")
    aligned: list[AxisNames] = [None] * (len(shape) - len(value))
    for axis, entry in enumerate(value, start=len(aligned)):
        if entry is None or entry == TEMPORAL_AXIS:
            aligned.append(None)
            continue
        if not isinstance(entry, list) or not all(isinstance(n, str) for n in entry):
            raise fail(f"element_names entry for axis {axis} must be a list of strings, got {quote(entry)}")
        if len(entry) != shape[axis]:
            defect(f"element_names for axis {axis} have {len(entry)} names but the axis has size "
                   f"{shape[axis]} (shape {list(shape)})", axis, tuple(entry))
            aligned.append(None)
            continue
        if len(set(entry)) != len(entry):
            dup = sorted({n for n in entry if entry.count(n) > 1})
            defect(f"element_names for axis {axis} repeat {quote(dup)}", axis, tuple(entry))
            aligned.append(None)
            continue
        aligned.append(tuple(entry))
    return tuple(aligned)
