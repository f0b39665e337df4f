"""Load a LEAPP bundle YAML into a validated `Bundle`, refusing anything half-understood."""

from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import yaml

from leapp_ros.bundle import dialects, files
from leapp_ros.bundle.graph import build_graph
from leapp_ros.bundle.model import Bundle, ModelNode, Port, SchemaVersion
from leapp_ros.bundle.ports import parse_port
from leapp_ros.errors import BundleError

TOP_LEVEL_KEYS = set(dialects.LEAPP_TOP_LEVEL)
LEGACY_TOP_LEVEL_KEYS = TOP_LEVEL_KEYS | {"semantic"}
BACKENDS = {"onnx": "onnx", "jit": "jit", "pt2": "pt2", "triton": "onnx"}  # 0.3.x 'triton' is an ONNX file
NODE_KEYS = {"inputs", "outputs", "parameters"}


def find_bundle_yaml(path: str | Path) -> Path:
    """Accept a bundle YAML or a directory holding exactly one."""
    path = Path(path)
    if path.is_dir():
        candidates = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if len(candidates) != 1:
            raise BundleError(f"expected exactly one bundle YAML in the directory, found "
                              f"{[c.name for c in candidates] or 'none'}", file=str(path))
        return candidates[0]
    if not path.exists():
        raise BundleError("no such file", file=str(path))
    if path.suffix not in (".yaml", ".yml"):
        raise BundleError("a bundle is a .yaml file (or its directory)", file=str(path))
    return path


def load_bundle(path: str | Path, *, verify_hashes: bool = True) -> Bundle:
    """Parse, check and return the bundle at `path`; raise BundleError naming the culprit."""
    yaml_path = find_bundle_yaml(path).resolve()
    file = str(yaml_path)

    def fail(message: str, *, node: str | None = None, port: str | None = None) -> BundleError:
        return BundleError(message, file=file, node=node, port=port)

    data = _read_yaml(yaml_path, fail)
    schema, leapp_version, config_version = dialects.detect(data["system information"], fail)
    tolerances: list[str] = []
    allowed = LEGACY_TOP_LEVEL_KEYS if schema is SchemaVersion.LEAPP_0_3 else TOP_LEVEL_KEYS
    vendor = {key: data[key] for key in data if key not in allowed}  # kept and reported, never a refusal
    tolerances.extend(f"top-level block '{key}' is not LEAPP's: kept as a vendor block" for key in vendor)

    models = data["models"]
    if not isinstance(models, dict) or not models:
        raise fail("'models' must be a non-empty mapping of node name -> model")
    nodes = tuple(_parse_node(name, raw, yaml_path.parent, verify_hashes, fail, tolerances.append)
                  for name, raw in models.items())
    pipeline = data["pipeline"]
    if not isinstance(pipeline, dict):
        raise fail("'pipeline' must be a mapping")
    graph = build_graph(nodes, pipeline, schema, fail)
    initial_values = _initial_values(pipeline, yaml_path.parent, graph.feedback, graph.nodes, fail)
    semantic = data.get("semantic")
    rate_hz, rate_source = _rate(pipeline, semantic, fail)
    return Bundle(yaml_path=yaml_path, schema=schema, leapp_version=leapp_version, nodes=graph.nodes,
                  data_flow=graph.data_flow, feedback=graph.feedback, inputs=graph.inputs,
                  outputs=graph.outputs, initial_values=MappingProxyType(initial_values), rate_hz=rate_hz,
                  rate_source=rate_source,
                  semantic=MappingProxyType(semantic) if isinstance(semantic, dict) else None,
                  config_version=config_version, vendor=MappingProxyType(vendor), tolerances=tuple(tolerances))


def _read_yaml(path: Path, fail) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot be read: {exc}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise fail(f"malformed YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise fail("a bundle YAML must be a mapping with 'models', 'pipeline' and 'system information'")
    missing = [k for k in ("models", "pipeline", "system information") if k not in data]
    if missing:
        raise fail(f"missing required top-level keys {missing}")
    return data


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicated mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (a second entry would silently replace the first)",
                key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_node(name: Any, raw: Any, directory: Path, verify_hashes: bool, fail, note) -> ModelNode:
    if not isinstance(name, str) or not name or "/" in name:
        raise fail("node names must be non-empty and contain no '/' (runtime keys are split on '/')",
                   node=str(name))
    if not isinstance(raw, dict):
        raise fail("a model entry must be a mapping with inputs, outputs and parameters", node=name)
    missing = NODE_KEYS - set(raw)
    if missing:
        raise fail(f"missing required keys {sorted(missing)}", node=name)
    unknown = set(raw) - NODE_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}", node=name)

    def node_fail(message: str, port: str | None = None) -> BundleError:
        return fail(message, node=name, port=port)

    ports: dict[str, tuple[Port, ...]] = {}
    for direction, key in (("input", "inputs"), ("output", "outputs")):
        if not isinstance(raw[key], list):
            raise node_fail(f"'{key}' must be a list of port descriptions")
        parsed = tuple(parse_port(p, name, direction, i, node_fail, note) for i, p in enumerate(raw[key]))
        seen: set[str] = set()
        for port in parsed:
            if port.name in seen:
                raise node_fail(f"duplicated {direction} name", port=port.name)
            seen.add(port.name)
        ports[key] = parsed
    params = raw["parameters"]
    if not isinstance(params, dict):
        raise node_fail("'parameters' must be a mapping")
    for key in ("model_path", "md5sum", "sha256sum", "backend"):
        if key not in params:
            raise node_fail(f"parameters lack required key '{key}'")
    backend = params["backend"]
    if backend is None or params["model_path"] is None:
        raise node_fail("the node was not exported (model_path/backend is null); such a bundle cannot run")
    if backend not in BACKENDS:
        raise node_fail(f"unsupported backend {backend!r} (supported: {', '.join(BACKENDS)})")
    if int(params.get("warp_segments") or 0) > 0:
        raise node_fail("the model uses Warp custom ops (warp_segments > 0), which need LEAPP's native Warp "
                        "runtime; leapp_ros does not run them")
    model_path = files.resolve_inside(directory, params["model_path"], "model file", node_fail)
    sha256 = str(params["sha256sum"])
    if verify_hashes:
        sha256 = files.check_sha256(model_path, params["sha256sum"], node_fail)
    if BACKENDS[backend] == "onnx":
        files.check_onnx_external_data(model_path, directory, node_fail)
    return ModelNode(name=name, backend=BACKENDS[backend], model_path=model_path, sha256=sha256,
                     inputs=ports["inputs"], outputs=ports["outputs"], parameters=MappingProxyType(dict(params)))


def _initial_values(pipeline: dict[str, Any], directory: Path, feedback, nodes, fail) -> dict[str, np.ndarray]:
    name = pipeline.get("initial_values")
    if name is None:
        return {}
    path = files.resolve_inside(directory, name, "initial values", fail)
    values = dict(files.load_initial_values(path, fail))
    targets = {edge.target for edge in feedback}
    by_key = {p.key: p for n in nodes for p in n.inputs}
    for key, array in values.items():
        node, _, port_name = key.partition("/")
        if key not in targets:
            raise fail(f"initial value '{key}' does not name a feedback input", node=node or None,
                       port=port_name or None)
        port = by_key[key]
        if array.dtype != port.dtype or tuple(array.shape) != port.shape:
            raise fail(f"initial value is {array.dtype}{list(array.shape)} but the port is "
                       f"{port.dtype}{list(port.shape)}", node=node, port=port_name)
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise fail("initial value is not finite (NaN/Inf)", node=node, port=port_name)
    return values


def _rate(pipeline: dict[str, Any], semantic: Any, fail) -> tuple[float | None, str | None]:
    configs = pipeline.get("configs")
    if configs is not None:
        if not isinstance(configs, dict):
            raise fail("pipeline.configs must be a mapping")
        if "frequency" in configs:
            return _positive(configs["frequency"], "pipeline.configs.frequency", fail), "pipeline.configs.frequency"
    scene = semantic.get("scene") if isinstance(semantic, dict) else None
    if isinstance(scene, dict) and scene.get("dt") is not None:
        return 1.0 / _positive(scene["dt"], "semantic.scene.dt", fail), "semantic.scene.dt"
    return None, None


def _positive(value: Any, what: str, fail) -> float:
    if isinstance(value, bool):  # YAML `true` is an int to Python; it is no rate
        raise fail(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise fail(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise fail(f"{what} must be positive and finite, got {value!r}")
    return number
