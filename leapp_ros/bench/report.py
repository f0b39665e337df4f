"""The versioned JSON document every `leapp-ros bench` run writes (schema: leapp_ros/bench/schema.json)."""

from __future__ import annotations

import datetime
import json
import platform
import uuid
from pathlib import Path
from typing import Any

from leapp_ros.bench.environment import hardware, software
from leapp_ros.bundle import Bundle

# 1.0: metadata, software, hardware, bundle, session_options, results, ratios.
# 1.1: adds run, backends, unavailable, process, paced, e2e, sim, plot (all keys of 1.0 kept as they were).
SCHEMA_VERSION = "1.1"
KIND = "leapp_ros.bench"


def new_report(command: list[str], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "kind": KIND,
            "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": command,
            "run": {"id": uuid.uuid4().hex, "host": platform.node(), **(settings or {})},
            "software": software(), "hardware": hardware()}


def bundle_descriptor(bundle: Bundle) -> dict[str, Any]:
    return {"path": str(bundle.yaml_path), "name": bundle.name, "schema": bundle.schema.value,
            "rate_hz": bundle.rate_hz,
            "nodes": [{"name": n.name, "format": n.backend, "sha256": n.sha256} for n in bundle.nodes]}


def write_report(report: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")


def read_report(path: str | Path) -> dict[str, Any]:
    """A bench JSON file as a dict; unreadable or non-JSON files raise OSError/ValueError naming the file."""
    try:
        document = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a JSON document ({exc})") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a bench report (top level is a {type(document).__name__}, not an object)")
    return document
