"""Isaac ROS Deploy graph configs, rewritten into the LEAPP document the loader reads, saying what was assumed.

The dialect (Isaac ROS Deploy 4.4/4.5 inference graphs): no `dtype` (float32), no hashes, no `system information`,
a per-model `formatting` block (`input_format`: the model's input order, an entry `{port: tensor}` where the model's
tensor has another name; `output_format`: a tensor name, or `{port: tensor}`), `[]` for unlabelled axes, kinds such
as `joint_pos_targets` or `feedback/<output>`, `pipeline.feedback_connections` (4.4) or `feedback_flow` (4.5),
backends `onnx` and `triton` (an ONNX file), robot metadata as extra top-level keys.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from leapp_ros.bundle import files
from leapp_ros.bundle.integrity import MAX_MODEL_BYTES
from leapp_ros.text import quote

Fail = Callable[..., Exception]
DEFAULT_DTYPE = "float32"
BACKENDS = {"onnx": "onnx", "triton": "onnx"}  # Isaac ROS Deploy serves the same ONNX file through Triton
OUTPUT_KINDS = {"joint_pos_targets": "target/joint/position", "joint_vel_targets": "target/joint/velocity",
                "stiffness_targets": "kp", "damping_targets": "kd"}
WIRING_KINDS = ("feedback/", "data_flow/")  # the runtime's own wiring markers, not semantics
RUNTIME_HISTORY_KEYS = ("history", "history_length")
MODEL_KEYS = {"inputs", "outputs", "parameters", "formatting"}


def recognises(data: dict[str, Any]) -> bool:
    """An Isaac ROS Deploy graph config: `models` without LEAPP's `system information`."""
    return "models" in data and "system information" not in data


def to_leapp(data: dict[str, Any], directory: Path, fail: Fail) -> tuple[dict[str, Any], list[str]]:
    """The same graph as a LEAPP document (config 1.3 layout) and the list of what was assumed."""
    notes: list[str] = []
    document = copy.deepcopy(data)
    models = document.get("models")
    if not isinstance(models, dict) or not models:
        raise fail("'models' must be a non-empty mapping of node name -> model")
    renames: dict[str, dict[str, str]] = {}  # node -> {port name in the config: model tensor name}
    untyped = []
    for node, model in models.items():
        if not isinstance(model, dict):
            raise fail("a model entry must be a mapping with inputs, outputs and parameters", node=str(node))
        for direction in ("inputs", "outputs"):
            listed = model.get(direction) or []
            if not isinstance(listed, list):
                raise fail(f"'{direction}' must be a list of port descriptions", node=str(node))
            for index, port in enumerate(listed):
                if not isinstance(port, dict) or not isinstance(port.get("name"), str) or not port["name"]:
                    raise fail(f"{direction[:-1]} #{index} must be a mapping with a 'name'", node=str(node))
        renames[node] = _apply_formatting(node, model, notes, fail)
        hashed = isinstance(model.get("parameters"), dict) and "sha256sum" in model["parameters"]
        model["parameters"] = _parameters(node, model.get("parameters"), directory, fail)
        if not hashed:
            notes.append(f"model '{node}': not hash-verified (the Isaac ROS Deploy dialect has no hashes); "
                         "its SHA-256 is computed at load and shown")
        for direction in ("inputs", "outputs"):
            ports = model.get(direction)
            if not isinstance(ports, list):
                raise fail(f"'{direction}' must be a list of port descriptions", node=node)
            for port in ports:
                if isinstance(port, dict):
                    untyped += _port(node, port, direction, renames[node], notes, fail)
    if untyped:
        notes.append(f"no dtype in the dialect: {DEFAULT_DTYPE} assumed for {len(untyped)} ports "
                     "(checked against each model when it loads)")
    pipeline = document.get("pipeline")
    if not isinstance(pipeline, dict):
        raise fail("'pipeline' must be a mapping")
    for section in ("feedback_connections", "feedback_flow"):
        if not isinstance(pipeline.get(section) or {}, dict):
            raise fail(f"pipeline.{section} must be a mapping 'node/output' -> ['node/input', ...], got "
                       f"{quote(pipeline[section])}")
    _pipeline(pipeline, renames, models, notes)
    document["system information"] = {}
    return document, notes


def _apply_formatting(node: str, model: dict[str, Any], notes: list[str], fail: Fail) -> dict[str, str]:
    """Order inputs as `input_format` says and map port names to the model's tensor names."""
    formatting = model.pop("formatting", None)
    if formatting is None:
        return {}
    if not isinstance(formatting, dict):
        raise fail("'formatting' must be a mapping with input_format and output_format", node=node)
    renames: dict[str, str] = {}
    order: list[str] = []
    for entry in formatting.get("input_format") or []:
        if isinstance(entry, str):
            order.append(entry)
        elif isinstance(entry, dict) and len(entry) == 1:
            (port, tensor), = entry.items()
            order.append(str(port))
            renames[str(port)] = str(tensor)
        else:
            raise fail(f"formatting.input_format entries are names or {{port: tensor}}, got {entry!r}", node=node)
    inputs = model.get("inputs") or []
    if order and isinstance(inputs, list) and len(_named(inputs)) == len(inputs):  # else the loader names the port
        by_name = {p.get("name"): p for p in inputs if isinstance(p, dict)}
        unknown = [n for n in order if n not in by_name]
        missing = [n for n in by_name if n not in order]
        if unknown or missing:
            raise fail(f"formatting.input_format {order} does not list the inputs {list(by_name)} "
                       f"(unknown {unknown}, missing {missing})", node=node)
        if order != list(by_name):
            notes.append(f"model '{node}': inputs taken in formatting.input_format order {order}")
        model["inputs"] = [by_name[n] for n in order]
    output_format = formatting.get("output_format")
    outputs = [str(p["name"]) for p in _named(model.get("outputs"))]
    if isinstance(output_format, str):
        if len(outputs) != 1:
            raise fail(f"formatting.output_format names one tensor '{output_format}' but the model has outputs "
                       f"{outputs}", node=node)
        renames[outputs[0]] = output_format
    elif isinstance(output_format, dict):
        for port, tensor in output_format.items():
            if port not in outputs:
                raise fail(f"formatting.output_format maps '{port}', which is not an output ({outputs})", node=node)
            renames[str(port)] = str(tensor)
    elif output_format is not None:
        raise fail(f"formatting.output_format must be a tensor name or {{port: tensor}}, got {output_format!r}",
                   node=node)
    renames = {port: tensor for port, tensor in renames.items() if port != tensor}
    for port, tensor in renames.items():
        notes.append(f"model '{node}': port '{port}' is the model's tensor '{tensor}' (formatting); "
                     f"it is called '{tensor}' here")
    return renames


def _parameters(node: str, params: Any, directory: Path, fail: Fail) -> dict[str, Any]:
    def node_fail(message: str) -> Exception:
        return fail(message, node=node)

    params = dict(params) if isinstance(params, dict) else {}
    backend = params.get("backend", "onnx")
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise fail(f"backend {quote(backend)} of the Isaac ROS Deploy config has no model file leapp_ros can run "
                   f"(supported: {', '.join(BACKENDS)})", node=node)
    if not params.get("model_path"):
        raise fail("parameters.model_path is missing: the Isaac ROS Deploy config names no model file", node=node)
    if "sha256sum" not in params:  # a hash that is given is verified like any LEAPP bundle's
        try:
            path = (directory / str(params["model_path"])).resolve()
            inside = path.is_relative_to(directory.resolve()) and path.is_file()
        except (OSError, RuntimeError, ValueError):  # a loop or a NUL byte: refused by name by the loader
            path, inside = directory, False
        # a missing or escaping path is refused by the loader
        params["sha256sum"] = (hashlib.sha256(files.read_once(path, "model file", MAX_MODEL_BYTES,
                                                              node_fail)).hexdigest() if inside else "0" * 64)
    params.update(backend=BACKENDS[backend], md5sum=params.get("md5sum", ""))
    return dict(params)


def _port(node: str, port: dict[str, Any], direction: str, renames: dict[str, str], notes: list[str],
          fail: Fail) -> list[str]:
    name = port.get("name")
    if not isinstance(name, str):
        return []  # left as it is: the loader refuses the port by its position
    for key in RUNTIME_HISTORY_KEYS:
        if port.get(key):
            raise fail(f"'{key}: {port[key]}' asks the Isaac ROS Deploy runtime to stack a history outside the "
                       "model; leapp_ros runs models whose history is inside the graph (export it with the history "
                       "in the policy, as Isaac Lab does)", node=node, port=str(name))
    if name in renames:
        port["name"] = renames[name]
    names = port.get("element_names")
    if isinstance(names, list):
        port["element_names"] = [None if axis == [] else axis for axis in names]
    kind = port.get("kind")
    if isinstance(kind, str):
        if kind.startswith(WIRING_KINDS):
            port.pop("kind")  # wiring is read from pipeline.feedback_flow / data_flow
        elif direction == "outputs" and kind in OUTPUT_KINDS:
            port["kind"] = OUTPUT_KINDS[kind]
            notes.append(f"port '{node}/{port['name']}': kind '{kind}' read as '{OUTPUT_KINDS[kind]}'")
    port.setdefault("type", "tensor")
    if "dtype" not in port:
        port["dtype"] = DEFAULT_DTYPE
        return [str(name)]
    return []


def _pipeline(pipeline: dict[str, Any], renames: dict[str, dict[str, str]], models: dict[str, Any],
              notes: list[str]) -> None:
    if "feedback_connections" in pipeline:  # Isaac ROS Deploy 4.4 spelling (both checked to be mappings)
        pipeline["feedback_flow"] = {**(pipeline.get("feedback_flow") or {}),
                                     **(pipeline.pop("feedback_connections") or {})}

    def key(text: Any) -> Any:
        if not isinstance(text, str) or text.count("/") != 1:
            return text
        node, name = text.split("/")
        return f"{node}/{renames.get(node, {}).get(name, name)}"
    for section in ("data_flow", "feedback_flow"):
        if isinstance(pipeline.get(section), dict):
            pipeline[section] = {key(src): [key(t) for t in targets] if isinstance(targets, list) else targets
                                 for src, targets in pipeline[section].items()}
    for section in ("inputs", "outputs"):
        if isinstance(pipeline.get(section), dict):
            pipeline[section] = {node: [renames.get(node, {}).get(n, n) if isinstance(n, str) else n for n in names]
                                 if isinstance(names, list) else names for node, names in pipeline[section].items()}
    if "inputs" not in pipeline or "outputs" not in pipeline:
        _derive_external(pipeline, models, notes)


def _derive_external(pipeline: dict[str, Any], models: dict[str, Any], notes: list[str]) -> None:
    """Single-model configs may omit pipeline.inputs/outputs: every input no edge feeds, every output."""
    edges: list[dict[str, Any]] = [section if isinstance(section, dict) else {}
                                   for section in (pipeline.get("data_flow"), pipeline.get("feedback_flow"))]
    fed = {t for section in edges for targets in section.values() if isinstance(targets, list)
           for t in targets if isinstance(t, str)}
    routed = {s for section in edges for s in section}
    if "inputs" not in pipeline:
        pipeline["inputs"] = {n: [p["name"] for p in _named(m.get("inputs")) if f"{n}/{p['name']}" not in fed]
                              for n, m in models.items()}
        notes.append("pipeline.inputs absent: every input no edge feeds is an external input")
    if "outputs" not in pipeline:
        pipeline["outputs"] = {n: [p["name"] for p in _named(m.get("outputs"))
                                   if f"{n}/{p['name']}" not in routed or p.get("kind")]
                               for n, m in models.items()}
        notes.append("pipeline.outputs absent: every output no edge consumes, and every output with a kind, is an "
                     "external output")


def _named(ports: Any) -> list[dict[str, Any]]:
    """Port entries that have a string name (the loader refuses the others by position)."""
    return [p for p in ports if isinstance(p, dict) and isinstance(p.get("name"), str)] if isinstance(ports, list) \
        else []
