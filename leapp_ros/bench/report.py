"""The versioned JSON document every `leapp-ros bench` run writes."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from leapp_ros.bench.environment import hardware, software
from leapp_ros.bundle import Bundle

SCHEMA_VERSION = "1.0"


def new_report(command: list[str]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "kind": "leapp_ros.bench",
            "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": command, "software": software(), "hardware": hardware()}


def bundle_descriptor(bundle: Bundle) -> dict[str, Any]:
    return {"path": str(bundle.yaml_path), "name": bundle.name, "schema": bundle.schema.value,
            "rate_hz": bundle.rate_hz,
            "nodes": [{"name": n.name, "format": n.backend, "sha256": n.sha256} for n in bundle.nodes]}


def p50_ratios(results: list[dict[str, Any]]) -> dict[str, float]:
    """Ratios of median tick times: ours over raw onnxruntime, and leapp's InferenceManager over ours."""
    p50 = {r["runtime"]: r["p50_us"] for r in results if r.get("p50_us")}
    ratios = {}
    if "leapp_ros" in p50 and "onnxruntime" in p50:
        ratios["leapp_ros_over_onnxruntime"] = round(p50["leapp_ros"] / p50["onnxruntime"], 3)
    if "leapp_ros" in p50 and "leapp.InferenceManager" in p50:
        ratios["inference_manager_over_leapp_ros"] = round(p50["leapp.InferenceManager"] / p50["leapp_ros"], 3)
    return ratios


def write_report(report: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(report, indent=1) + "\n")
