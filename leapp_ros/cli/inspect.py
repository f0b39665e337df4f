"""`leapp-ros inspect BUNDLE.yaml [--json]`: the contract of a bundle as the loader understood it."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from leapp_ros.bundle import Bundle, Port, load_bundle
from leapp_ros.engine import BackendOptions, Engine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="bundle YAML (or its directory)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--params-file", help="deploy parameter file, for the binding plan")
    parser.add_argument("--no-plan", action="store_true", help="do not compile the binding plan")
    parser.add_argument("--bench", action="store_true",
                        help="time every available backend on this machine (as backend 'auto' does)")


def run(args: argparse.Namespace) -> int:
    bundle = load_bundle(args.bundle)
    check_models(bundle)
    report = bundle_report(bundle)
    plan_text = None
    if not args.no_plan:
        plan_text, report["binding_plan"] = _binding_plan(bundle, args.params_file)
    selection = None
    if args.bench:
        from leapp_ros.engine.autoselect import default_candidates, measure
        selection = measure(bundle, default_candidates(bundle))
        report["backend_benchmark"] = selection.as_dict()
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(format_report(report))
    if plan_text:
        print(plan_text)
    if selection is not None:
        print("backends measured on this machine (backend 'auto' picks the lowest p99 passing parity):")
        print(selection.table())
    return 0


def check_models(bundle: Bundle) -> None:
    """Refuse what `run`, `replay` and `bench` refuse: build every node's backend as they do (CPU, the node's
    natural runtime), which checks each model's inputs and outputs against the YAML, then release it."""
    Engine(bundle, BackendOptions()).close()


def port_report(port: Port, bundle: Bundle) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": port.name, "dtype": str(port.dtype), "shape": list(port.shape)}
    if port.kind:
        entry["kind"] = port.kind
    if port.element_names is not None:
        entry["element_names"] = [list(n) if n is not None else None for n in port.element_names]
    if port.connection is not None:
        entry["connection"] = str(port.connection)
    if port.is_state:
        entry["state"] = True
        if port.direction == "input":
            entry["initial_value"] = _summary(bundle.initial_value(port.key))
            entry["initial_value_source"] = ("initial_values file" if port.key in bundle.initial_values
                                             else "zeros (absent from the bundle)")
    return entry


def bundle_report(bundle: Bundle) -> dict[str, Any]:
    return {
        "bundle": str(bundle.yaml_path),
        "schema": bundle.schema.value,
        "leapp_version": bundle.leapp_version,
        "config_version": bundle.config_version,
        "rate_hz": bundle.rate_hz,
        "rate_source": bundle.rate_source,
        "nodes": [{"name": n.name, "backend": n.backend, "model": n.model_path.name, "sha256": n.sha256,
                   "inputs": [port_report(p, bundle) for p in n.inputs],
                   "outputs": [port_report(p, bundle) for p in n.outputs]} for n in bundle.nodes],
        "pipeline_inputs": [p.key for p in bundle.inputs],
        "pipeline_outputs": [p.key for p in bundle.outputs],
        "data_flow": [[e.source, e.target] for e in bundle.data_flow],
        "feedback": [[e.source, e.target] for e in bundle.feedback],
        "vendor_blocks": {name: _json_safe(block) for name, block in bundle.vendor.items()},
        "tolerances": list(bundle.tolerances),
    }


def _json_safe(value: Any) -> Any:
    """Vendor blocks are arbitrary YAML: keep what JSON can carry, stringify the rest."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _vendor_lines(blocks: dict[str, Any], limit: int = 12) -> list[str]:
    """Each vendor block as indented YAML, cut after `limit` lines."""
    import yaml
    lines: list[str] = []
    for name, block in blocks.items():
        text = yaml.safe_dump({name: block}, sort_keys=False, default_flow_style=None, width=100).splitlines()
        lines.extend("  " + line for line in text[:limit])
        if len(text) > limit:
            lines.append(f"  ... ({len(text) - limit} more lines)")
    return lines


def _summary(value: np.ndarray) -> dict[str, Any]:
    flat = value.ravel()
    summary: dict[str, Any] = {"all_zero": bool(not flat.any())}
    if flat.size <= 16:
        summary["values"] = flat.tolist()
    else:
        summary.update(min=float(flat.min()), max=float(flat.max()))
    return summary


def format_report(report: dict[str, Any]) -> str:
    rate = (f"{report['rate_hz']:g} Hz (from {report['rate_source']})" if report["rate_hz"]
            else "not stated (deploy needs --rate)")
    config = f", config version {report['config_version']}" if report.get("config_version") else ""
    lines = [f"bundle   {report['bundle']}",
             f"schema   {report['schema']}"
             + (f" (leapp {report['leapp_version']}{config})" if report["leapp_version"] else ""),
             f"rate     {rate}"]
    for node in report["nodes"]:
        lines.append(f"node     {node['name']}  [{node['backend']}: {node['model']}]")
        for direction in ("inputs", "outputs"):
            lines.append(f"  {direction}:")
            for port in node[direction]:
                lines.append("    " + _port_line(port))
    for title, edges in (("feedback", report["feedback"]), ("data_flow", report["data_flow"])):
        if edges:  # a header line, then one edge per line
            lines.append(title)
            lines.extend(f"  {src} -> {dst}" for src, dst in edges)
        elif title == "feedback":
            lines.append("feedback none")
    if report.get("vendor_blocks"):
        lines.append("vendor blocks (kept, not LEAPP's)")
        lines.extend(_vendor_lines(report["vendor_blocks"]))
    if report.get("tolerances"):
        lines.append("assumed")
        lines.extend(f"  - {t}" for t in report["tolerances"])
    else:
        lines.append("assumed  nothing (the bundle is read as written)")
    return "\n".join(lines)


def _port_line(port: dict[str, Any]) -> str:
    text = f"{port['name']:<34} {port['dtype']}{port['shape']}"
    if port.get("kind"):
        text += f"  kind={port['kind']}"
    if port.get("connection"):
        text += f"  connection={port['connection']}"
    if port.get("state"):
        text += "  (feedback state"
        if "initial_value" in port:
            text += f", initial: {port['initial_value_source']}"
        text += ")"
    names = port.get("element_names")
    if names:
        labelled = [", ".join(axis) for axis in names if axis is not None]
        if labelled:
            text += "\n" + " " * 6 + "element_names: " + " | ".join(labelled)
    return text


def _binding_plan(bundle: Bundle, params_file: str | None) -> tuple[str | None, Any]:
    """The binding plan, when the binding layer is installed; its refusal is reported, not fatal, here."""
    try:
        from leapp_ros.binding import binding_plan_for_inspect
    except ImportError:
        return None, None
    return binding_plan_for_inspect(bundle, params_file)
