"""Documented ranges for the numbers a bundle states (rate, period, shapes, counts), checked before use."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from leapp_ros.text import quote

MIN_RATE_HZ, MAX_RATE_HZ = 0.1, 10_000.0  # a policy ticks between once per 10 s and 10 kHz
MIN_DT_S, MAX_DT_S = 1.0 / MAX_RATE_HZ, 1.0 / MIN_RATE_HZ
MAX_RANK = 8
MAX_PORT_ELEMENTS = 1 << 24  # 16 Mi elements (64 MiB of float32) per tensor
MAX_NODES = 64
MAX_PORTS_PER_NODE = 256
MAX_NAME_LENGTH = 256
MAX_COUNT = 1 << 20

Fail = Callable[[str], Exception]


def number(value: Any, what: str, fail: Fail) -> float:
    """A real number (YAML int or float, not a bool or a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(f"{what} must be a number, got {quote(value)}")
    try:
        return float(value)
    except OverflowError:  # a 400-digit YAML integer
        raise fail(f"{what} must be positive and finite, got {quote(value)}") from None


def rate_hz(value: Any, what: str, fail: Fail) -> float:
    """A policy rate in Hz within [MIN_RATE_HZ, MAX_RATE_HZ]."""
    hz = _positive(value, what, fail)
    if not MIN_RATE_HZ <= hz <= MAX_RATE_HZ:
        raise fail(f"{what} is {quote(value)} Hz, outside the supported policy rate range "
                   f"{MIN_RATE_HZ:g}..{MAX_RATE_HZ:g} Hz")
    return hz


def period_s(value: Any, what: str, fail: Fail) -> float:
    """A policy period in seconds within [MIN_DT_S, MAX_DT_S]."""
    dt = _positive(value, what, fail)
    if not MIN_DT_S <= dt <= MAX_DT_S:
        raise fail(f"{what} is {quote(value)} s, outside the supported policy period range "
                   f"{MIN_DT_S:g}..{MAX_DT_S:g} s ({MIN_RATE_HZ:g}..{MAX_RATE_HZ:g} Hz)")
    return dt


def _positive(value: Any, what: str, fail: Fail) -> float:
    x = number(value, what, fail)
    if not math.isfinite(x) or x <= 0:
        raise fail(f"{what} must be positive and finite, got {quote(value)}")
    return x


def count(value: Any, what: str, fail: Fail) -> int:
    """A non-negative integer count (absent/null is 0); a string or float is refused, not coerced."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(f"{what} must be a whole number, got {quote(value)}")
    if not 0 <= value <= MAX_COUNT:
        raise fail(f"{what} must be between 0 and {MAX_COUNT}, got {quote(value)}")
    return value


def shape(dims: tuple[int, ...], fail: Fail) -> None:
    """Rank and element count small enough to allocate."""
    if len(dims) > MAX_RANK:
        raise fail(f"shape {quote(list(dims))} has {len(dims)} axes (at most {MAX_RANK})")
    elements = math.prod(dims)
    if elements > MAX_PORT_ELEMENTS:
        raise fail(f"shape {quote(list(dims))} has {elements} elements (at most {MAX_PORT_ELEMENTS})")


def name(value: Any, what: str, fail: Fail) -> str:
    """A non-empty, printable name of bounded length."""
    if not isinstance(value, str) or not value:
        raise fail(f"{what} must be a non-empty string, got {quote(value)}")
    if len(value) > MAX_NAME_LENGTH:
        raise fail(f"{what} {quote(value)} is longer than {MAX_NAME_LENGTH} characters")
    if not value.isprintable():
        raise fail(f"{what} {quote(value)} contains control characters")
    return value
