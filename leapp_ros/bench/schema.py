"""Validation of bench documents against leapp_ros/bench/schema.json (jsonschema), and which ones compare."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from leapp_ros.bench.report import KIND, SCHEMA_VERSION
from leapp_ros.errors import LeappRosError

SCHEMA_PATH = Path(__file__).with_name("schema.json")


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def schema_errors(document: Any) -> list[str]:
    """Every way `document` breaks the schema, as 'path: message' lines (empty when it is valid)."""
    try:
        import jsonschema
    except ImportError:
        raise LeappRosError("validating bench documents needs jsonschema: pip install jsonschema") from None
    validator = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors]


def major_version(document: dict[str, Any]) -> str:
    return str(document.get("schema_version", "")).split(".")[0]


def incompatibility(a: dict[str, Any], name_a: str, b: dict[str, Any], name_b: str) -> str | None:
    """Why two documents cannot be compared (invalid, another kind, another schema major), or None."""
    for document, name in ((a, name_a), (b, name_b)):
        if document.get("kind") != KIND:
            return f"{name}: not a leapp_ros bench document (kind {document.get('kind')!r}, expected {KIND!r})"
        if major_version(document) != SCHEMA_VERSION.split(".")[0]:
            return (f"{name}: schema_version {document.get('schema_version')!r} is not readable by this "
                    f"leapp-ros (reads {SCHEMA_VERSION.split('.')[0]}.x)")
        errors = schema_errors(document)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            return f"{name}: does not follow the bench schema: {errors[0]}{more}"
    return None
