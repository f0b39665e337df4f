"""Check the pipeline wiring (external I/O, data_flow and feedback edges) and mark state ports."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leapp_ros.bundle.model import Edge, ModelNode, Port, SchemaVersion
from leapp_ros.errors import BundleFail
from leapp_ros.text import quote

PortLookup = Callable[[Any, str, str], Port]  # ('node/port', direction, where) -> the port, or a BundleError

PIPELINE_KEYS = {
    SchemaVersion.LEAPP_0_7: {"configs", "data_flow", "feedback_flow", "initial_values", "inputs", "outputs"},
    SchemaVersion.LEAPP_0_5: {"data_flow", "feedback_flow", "initial_values", "inputs", "outputs"},
    SchemaVersion.ISAAC_ROS_DEPLOY: {"data_flow", "feedback_flow", "initial_values", "inputs", "outputs"},
    SchemaVersion.LEAPP_0_3: {"configs", "data_flow", "feedback_connections", "feedback_flow", "initial_values",
                              "inputs", "outputs"},
}


@dataclass(frozen=True)
class Graph:
    nodes: tuple[ModelNode, ...]
    data_flow: tuple[Edge, ...]
    feedback: tuple[Edge, ...]
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]


def build_graph(nodes: tuple[ModelNode, ...], pipeline: dict[str, Any], schema: SchemaVersion,
                fail: BundleFail) -> Graph:
    unknown = set(pipeline) - PIPELINE_KEYS[schema]
    if unknown:
        raise fail(f"unknown pipeline keys {sorted(unknown)} (known: {sorted(PIPELINE_KEYS[schema])})")
    for key in ("inputs", "outputs"):
        if key not in pipeline:
            raise fail(f"pipeline lacks required key '{key}'")
    order = {node.name: i for i, node in enumerate(nodes)}
    ports = {(p.node, p.direction, p.name): p for n in nodes for p in (*n.inputs, *n.outputs)}

    def port(key: Any, direction: str, where: str) -> Port:
        if not isinstance(key, str) or key.count("/") != 1:
            raise fail(f"{where}: {quote(key)} must be 'node/port'")
        node, name = key.split("/")
        if node not in order:
            raise fail(f"{where}: unknown node '{node}'", node=node)
        found = ports.get((node, direction, name))
        if found is None:
            raise fail(f"{where}: the node has no {direction} '{name}'", node=node, port=name)
        return found

    data_flow = _edges(pipeline.get("data_flow"), "data_flow", port, fail)
    feedback_key = "feedback_connections" if "feedback_connections" in pipeline else "feedback_flow"
    feedback = _edges(pipeline.get(feedback_key), feedback_key, port, fail)
    for edge in data_flow:
        src, dst = edge.source.split("/")[0], edge.target.split("/")[0]
        if order[src] >= order[dst]:
            raise fail(f"data_flow edge {edge.source} -> {edge.target} does not run forward in model order "
                       "(a loop must be declared as feedback)", node=dst)
    external_inputs = _external(pipeline["inputs"], "input", "pipeline.inputs", nodes, port, fail)
    external_outputs = _external(pipeline["outputs"], "output", "pipeline.outputs", nodes, port, fail)

    fed: dict[str, str] = {}
    for edge in (*data_flow, *feedback):
        if edge.target in fed:
            raise fail(f"input is fed by both '{fed[edge.target]}' and '{edge.source}'",
                       node=edge.target.split("/")[0], port=edge.target.split("/")[1])
        fed[edge.target] = edge.source
    routed = {edge.source for edge in (*data_flow, *feedback)} | {p.key for p in external_outputs}
    for node in nodes:
        for p in node.inputs:
            is_external = p in external_inputs
            if is_external and p.key in fed:
                raise fail("input is listed in pipeline.inputs but is also the target of an edge",
                           node=node.name, port=p.name)
            if not is_external and p.key not in fed:
                raise fail("input is neither a pipeline input nor the target of any edge (it would never be fed)",
                           node=node.name, port=p.name)
        for p in node.outputs:
            if p.key not in routed:
                raise fail("output is not routed anywhere (not a pipeline output and no edge)",
                           node=node.name, port=p.name)
    for edge in (*data_flow, *feedback):
        source = ports[(_split(edge.source)[0], "output", _split(edge.source)[1])]
        target = ports[(_split(edge.target)[0], "input", _split(edge.target)[1])]
        if source.dtype != target.dtype or source.shape != target.shape:
            raise fail(f"edge {edge.source} -> {edge.target} joins {source.dtype}{list(source.shape)} to "
                       f"{target.dtype}{list(target.shape)}", node=target.node, port=target.name)

    state_keys = {k for e in feedback for k in (e.source, e.target)}
    marked = tuple(dataclasses.replace(
        node,
        inputs=tuple(dataclasses.replace(p, is_state=p.key in state_keys) for p in node.inputs),
        outputs=tuple(dataclasses.replace(p, is_state=p.key in state_keys) for p in node.outputs),
    ) for node in nodes)
    by_key = {p.key: p for n in marked for p in (*n.inputs, *n.outputs)}
    return Graph(nodes=marked, data_flow=data_flow, feedback=feedback,
                 inputs=tuple(by_key[p.key] for p in external_inputs),
                 outputs=tuple(by_key[p.key] for p in external_outputs))


def _split(key: str) -> tuple[str, str]:
    node, name = key.split("/")
    return node, name


def _edges(raw: Any, where: str, port: PortLookup, fail: BundleFail) -> tuple[Edge, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise fail(f"pipeline.{where} must be a mapping 'node/output' -> ['node/input', ...]")
    edges = []
    for source, targets in raw.items():
        port(source, "output", f"pipeline.{where}")
        if not isinstance(targets, list) or not targets:
            raise fail(f"pipeline.{where}['{source}'] must be a non-empty list of 'node/input'")
        for target in targets:
            port(target, "input", f"pipeline.{where}")
            edges.append(Edge(source, target))
    return tuple(edges)


def _external(raw: Any, direction: str, where: str, nodes: tuple[ModelNode, ...], port: PortLookup,
              fail: BundleFail) -> tuple[Port, ...]:
    """External ports in model order (the YAML mapping is sorted alphabetically by node)."""
    if not isinstance(raw, dict):
        raise fail(f"{where} must be a mapping node -> [port names]")
    listed: list[Port] = []
    for node, names in raw.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise fail(f"{where}['{node}'] must be a list of port names, got {quote(names)}", node=str(node))
        if len(set(names)) != len(names):
            raise fail(f"{where}['{node}'] lists a port twice", node=str(node))
        listed.extend(port(f"{node}/{name}", direction, where) for name in names)
    rank = {node.name: i for i, node in enumerate(nodes)}
    return tuple(sorted(listed, key=lambda p: rank[p.node]))  # stable: keeps list order within a node
