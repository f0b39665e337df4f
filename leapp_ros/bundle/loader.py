"""Load a LEAPP bundle YAML into a validated `Bundle`, refusing anything half-understood."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from leapp_ros.bundle import bounds, dialects, files, isaac_ros_deploy, warp
from leapp_ros.bundle.graph import build_graph
from leapp_ros.bundle.guard import guarded_load
from leapp_ros.bundle.integrity import verified_model_bytes
from leapp_ros.bundle.model import Bundle, Edge, ModelNode, Port, SchemaVersion
from leapp_ros.bundle.ports import parse_port
from leapp_ros.bundle.yaml_safe import read_yaml_file
from leapp_ros.errors import BundleError, BundleFail
from leapp_ros.text import quote

TOP_LEVEL_KEYS = set(dialects.LEAPP_TOP_LEVEL)
LEGACY_TOP_LEVEL_KEYS = TOP_LEVEL_KEYS | {"semantic"}
BACKENDS = {"onnx": "onnx", "jit": "jit", "pt2": "pt2", "triton": "onnx"}  # 0.3.x 'triton' is an ONNX file
NODE_KEYS = {"inputs", "outputs", "parameters"}


def find_bundle_yaml(path: str | Path) -> Path:
    """Accept a bundle YAML or a directory holding exactly one."""
    if "\x00" in str(path):
        raise BundleError("the path contains a NUL byte", file=str(path))
    path = Path(path)
    if path.is_dir():
        candidates = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if len(candidates) != 1:
            raise BundleError(f"expected exactly one bundle YAML in the directory, found "
                              f"{[c.name for c in candidates] or 'none'}", file=str(path))
        return candidates[0]
    if not path.exists():
        raise BundleError("a symbolic link that does not resolve (dangling or a loop)" if path.is_symlink()
                          else "no such file", file=str(path))
    if path.suffix not in (".yaml", ".yml"):
        raise BundleError("a bundle is a .yaml file (or its directory)", file=str(path))
    return path


def load_bundle(path: str | Path, *, verify_hashes: bool = True) -> Bundle:
    """Parse, check and return the bundle at `path`; raise BundleError naming the culprit."""
    return guarded_load(_load_bundle, path, verify_hashes=verify_hashes)


def _load_bundle(path: str | Path, *, verify_hashes: bool = True) -> Bundle:
    yaml_path = find_bundle_yaml(path).resolve()
    file = str(yaml_path)

    def fail(message: str, *, node: str | None = None, port: str | None = None) -> BundleError:
        return BundleError(message, file=file, node=node, port=port)

    data = _read_yaml(yaml_path, fail)
    tolerances: list[str] = []
    if isaac_ros_deploy.recognises(data):
        data, notes = isaac_ros_deploy.to_leapp(data, yaml_path.parent, fail)
        tolerances.extend(notes)
        schema, leapp_version, config_version = SchemaVersion.ISAAC_ROS_DEPLOY, "", None
    else:
        schema, leapp_version, config_version = dialects.detect(data["system information"], fail)
    allowed = LEGACY_TOP_LEVEL_KEYS if schema is SchemaVersion.LEAPP_0_3 else TOP_LEVEL_KEYS
    vendor = {key: data[key] for key in data if key not in allowed}  # kept and reported, never a refusal
    tolerances.extend(f"top-level block '{key}' is not LEAPP's: kept as a vendor block" for key in vendor)

    models = data["models"]
    if not isinstance(models, dict) or not models:
        raise fail("'models' must be a non-empty mapping of node name -> model")
    if len(models) > bounds.MAX_NODES:
        raise fail(f"'models' has {len(models)} nodes (at most {bounds.MAX_NODES})")
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


def _read_yaml(path: Path, fail: BundleFail) -> dict[str, Any]:
    data = read_yaml_file(path, fail)
    if not isinstance(data, dict):
        raise fail("a bundle YAML must be a mapping with 'models', 'pipeline' and 'system information'")
    required = ("models", "pipeline") + (() if isaac_ros_deploy.recognises(data) else ("system information",))
    missing = [k for k in required if k not in data]
    if missing:
        raise fail(f"missing required top-level keys {missing}")
    return data


def _parse_node(name: Any, raw: Any, directory: Path, verify_hashes: bool, fail: BundleFail,
                note: Callable[[str], None]) -> ModelNode:
    if not isinstance(name, str) or not name or "/" in name:
        raise fail("node names must be non-empty and contain no '/' (runtime keys are split on '/')",
                   node=str(name))
    bounds.name(name, "node name", lambda m: fail(m, node=name))
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
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise node_fail(f"unsupported backend {quote(backend)} (supported: {', '.join(BACKENDS)})")
    warp_segments = bounds.count(params.get("warp_segments"), "parameters.warp_segments", node_fail)
    model_path = files.resolve_inside(directory, params["model_path"], "model file", node_fail)
    model_bytes, sha256 = verified_model_bytes(model_path, BACKENDS[backend], params, directory, verify_hashes,
                                               node_fail)
    warp_refusal = warp.refusal(BACKENDS[backend], model_bytes, warp_segments)  # names the kernels (bundle/warp.py)
    if warp_refusal is not None:
        raise node_fail(warp_refusal)
    return ModelNode(name=name, backend=BACKENDS[backend], model_path=model_path, sha256=sha256,
                     inputs=ports["inputs"], outputs=ports["outputs"], parameters=MappingProxyType(dict(params)),
                     model_bytes=model_bytes)


def _initial_values(pipeline: dict[str, Any], directory: Path, feedback: tuple[Edge, ...],
                    nodes: tuple[ModelNode, ...], fail: BundleFail) -> dict[str, np.ndarray]:
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


def _rate(pipeline: dict[str, Any], semantic: Any, fail: BundleFail) -> tuple[float | None, str | None]:
    configs = pipeline.get("configs")
    if configs is not None:
        if not isinstance(configs, dict):
            raise fail("pipeline.configs must be a mapping")
        if "frequency" in configs:
            key = "pipeline.configs.frequency"
            return bounds.rate_hz(configs["frequency"], key, fail), key
    scene = semantic.get("scene") if isinstance(semantic, dict) else None
    if isinstance(scene, dict) and scene.get("dt") is not None:
        return 1.0 / bounds.period_s(scene["dt"], "semantic.scene.dt", fail), "semantic.scene.dt"
    return None, None
