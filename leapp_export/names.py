"""Isaac Lab's regex name matching (``resolve_matching_names[_values]``), re-implemented for offline use."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from leapp_export.errors import ExportError


def match_names(patterns: str | Sequence[str], names: Sequence[str], preserve_order: bool,
                where: str) -> list[int]:
    """Indices of ``names`` fully matched by ``patterns``, in name order or (``preserve_order``) pattern order."""
    keys = [patterns] if isinstance(patterns, str) else list(patterns)
    hits: list[tuple[int, int]] = []  # (key index, name index)
    matched_keys: set[int] = set()
    for name_index, name in enumerate(names):
        owners = [k for k, key in enumerate(keys) if re.fullmatch(key, name)]
        if len(owners) > 1:
            raise ExportError(f"{where}: joint '{name}' is matched by several patterns {[keys[k] for k in owners]}")
        if owners:
            hits.append((owners[0], name_index))
            matched_keys.add(owners[0])
    unmatched = [keys[k] for k in range(len(keys)) if k not in matched_keys]
    if unmatched:
        raise ExportError(f"{where}: pattern(s) {unmatched} match no joint of the robot ({list(names)})")
    if preserve_order:
        hits.sort(key=lambda hit: hit[0])  # stable: names keep articulation order within one pattern
    return [name_index for _, name_index in hits]


def match_values(mapping: Mapping[str, Any], names: Sequence[str], where: str) -> dict[int, Any]:
    """Map each name index to the value of the one pattern of ``mapping`` that matches it."""
    result: dict[int, Any] = {}
    for index in match_names(list(mapping), names, preserve_order=False, where=where):
        for key, value in mapping.items():
            if re.fullmatch(key, names[index]):
                result[index] = value
                break
    return result
