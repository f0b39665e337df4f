"""Typed, immutable description of a loaded LEAPP bundle (nodes, ports, edges, feedback, rate)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType

import numpy as np

from leapp_ros.bundle.connection import Connection


class SchemaVersion(str, Enum):
    """Bundle dialects the loader understands."""

    LEAPP_0_7 = "leapp-0.7"  # leapp 0.6.0-0.7.x / Isaac Lab 3.0, `leapp config version: '1.3'`
    LEAPP_0_5 = "leapp-0.5"  # leapp 0.5.1-0.5.2, `leapp config version: '1.1'`
    LEAPP_0_3 = "leapp-0.3"  # leapp 0.3.x as shipped by NVIDIA for Isaac ROS (no config version)
    ISAAC_ROS_DEPLOY = "isaac-ros-deploy"  # Isaac ROS Deploy graph configs (no dtype, `formatting`, no hashes)


AxisNames = tuple[str, ...] | None
"""Labels of one tensor axis; None for an unlabelled axis."""


@dataclass(frozen=True)
class Port:
    """One model input or output: its tensor contract and its semantics."""

    node: str
    name: str
    direction: str  # "input" | "output"
    dtype: np.dtype
    shape: tuple[int, ...]
    kind: str | None = None
    element_names: tuple[AxisNames, ...] | None = None  # one entry per tensor axis, aligned
    connection: Connection | None = None
    is_state: bool = False  # the source or target of a feedback edge
    unplaced_names: tuple[str, ...] | None = None  # declared trailing-axis labels that did not fit (dropped)
    extra: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> str:
        """Runtime key `node/name`, as used in `pipeline` and initial values."""
        return f"{self.node}/{self.name}"

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def axis_names(self, axis: int) -> AxisNames:
        """Labels of `axis` (negative counts from the end), or None."""
        if self.element_names is None:
            return None
        return self.element_names[axis]

    @property
    def last_axis_names(self) -> AxisNames:
        """Labels of the trailing axis, where joint, xyz and quaternion names live."""
        return self.axis_names(-1) if self.shape else None


@dataclass(frozen=True)
class ModelNode:
    """One exported model of the pipeline, run in bundle order."""

    name: str
    backend: str  # "onnx" | "jit" | "pt2" (legacy "triton" is normalised to "onnx")
    model_path: Path
    sha256: str
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    parameters: Mapping[str, object]
    # The verified bytes the runtime loads (ONNX external data inlined); never re-read from model_path.
    model_bytes: bytes = field(default=b"", repr=False, compare=False)

    def input(self, name: str) -> Port:
        return next(p for p in self.inputs if p.name == name)

    def output(self, name: str) -> Port:
        return next(p for p in self.outputs if p.name == name)


@dataclass(frozen=True)
class Edge:
    """A routed tensor: `source` output key -> `target` input key."""

    source: str
    target: str


@dataclass(frozen=True)
class Bundle:
    """A validated LEAPP bundle, ready for an engine to load."""

    yaml_path: Path
    schema: SchemaVersion
    leapp_version: str
    nodes: tuple[ModelNode, ...]
    data_flow: tuple[Edge, ...]
    feedback: tuple[Edge, ...]
    inputs: tuple[Port, ...]  # external pipeline inputs, pipeline order
    outputs: tuple[Port, ...]  # external pipeline outputs, pipeline order
    initial_values: Mapping[str, np.ndarray]  # feedback target key -> read-only array
    rate_hz: float | None
    rate_source: str | None  # where rate_hz came from, for reports
    semantic: Mapping[str, object] | None = None
    config_version: str | None = None  # `leapp config version`; None for legacy 0.3.x and other dialects
    vendor: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))  # extra top-level blocks
    tolerances: tuple[str, ...] = ()  # what the loader assumed or accepted beyond the strict format, one line each

    @property
    def directory(self) -> Path:
        return self.yaml_path.parent

    @property
    def name(self) -> str:
        return self.yaml_path.stem

    def port(self, key: str) -> Port:
        """The port with runtime key `node/name` (inputs first, then outputs)."""
        node_name, _, port_name = key.partition("/")
        for node in self.nodes:
            if node.name == node_name:
                for port in (*node.inputs, *node.outputs):
                    if port.name == port_name:
                        return port
        raise KeyError(key)

    def initial_value(self, key: str) -> np.ndarray:
        """Start value of feedback target `key`: from the initial-values file, else zeros."""
        value = self.initial_values.get(key)
        if value is not None:
            return value
        port = self.port(key)
        return np.zeros(port.shape, dtype=port.dtype)
