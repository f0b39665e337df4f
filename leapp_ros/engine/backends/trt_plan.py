"""Binding plan for a TensorRT engine: match its I/O tensors to the YAML ports by name, shape and dtype.

Pure logic (no TensorRT import) so it is tested without the library. TensorRT may narrow `int64` tensors to
`int32` (TensorRT 8 always does; the ONNX parser casts); such a tensor is bound through a device staging buffer
of the engine's dtype and cast on the device. Any other difference refuses the engine with the culprit named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leapp_ros.bundle import ModelNode
from leapp_ros.errors import EngineError

ALLOWED_CASTS = {(np.dtype(np.int64), np.dtype(np.int32))}  # (YAML dtype, engine dtype)


@dataclass(frozen=True)
class EngineTensor:
    """What the engine says about one I/O tensor."""

    name: str
    is_input: bool
    shape: tuple[int, ...]
    dtype: np.dtype


@dataclass(frozen=True)
class TensorBinding:
    name: str
    is_input: bool
    shape: tuple[int, ...]
    port_dtype: np.dtype
    engine_dtype: np.dtype

    @property
    def needs_cast(self) -> bool:
        return self.port_dtype != self.engine_dtype


@dataclass(frozen=True)
class BindingPlan:
    inputs: tuple[TensorBinding, ...]  # YAML order
    outputs: tuple[TensorBinding, ...]  # YAML order

    @property
    def casts(self) -> tuple[TensorBinding, ...]:
        return tuple(b for b in (*self.inputs, *self.outputs) if b.needs_cast)


def plan_bindings(node: ModelNode, tensors: Sequence[EngineTensor]) -> BindingPlan:
    """Bind every YAML port to the engine tensor of the same name; refuse any mismatch."""
    by_name: dict[str, EngineTensor] = {}
    for tensor in tensors:
        if tensor.name in by_name:
            raise EngineError(f"node '{node.name}': the engine lists tensor '{tensor.name}' twice")
        by_name[tensor.name] = tensor
    for direction, ports, is_input in (("input", node.inputs, True), ("output", node.outputs, False)):
        engine_names = sorted(t.name for t in tensors if t.is_input == is_input)
        if engine_names != sorted(p.name for p in ports):
            raise EngineError(f"node '{node.name}': the engine's {direction}s are {engine_names}, the YAML "
                              f"declares {sorted(p.name for p in ports)}")
    planned: dict[bool, list[TensorBinding]] = {True: [], False: []}
    for ports, is_input in ((node.inputs, True), (node.outputs, False)):
        for port in ports:
            tensor = by_name[port.name]
            if any(d < 0 for d in tensor.shape):
                raise EngineError(f"node '{node.name}', port '{port.name}': the engine has a dynamic shape "
                                  f"{list(tensor.shape)}; build it with the bundle's static shapes")
            if tuple(tensor.shape) != tuple(port.shape):
                raise EngineError(f"node '{node.name}', port '{port.name}': the engine's shape "
                                  f"{list(tensor.shape)} differs from the YAML's {list(port.shape)}")
            port_dtype, engine_dtype = np.dtype(port.dtype), np.dtype(tensor.dtype)
            if port_dtype != engine_dtype and (port_dtype, engine_dtype) not in ALLOWED_CASTS:
                raise EngineError(f"node '{node.name}', port '{port.name}': the engine's dtype {engine_dtype} "
                                  f"differs from the YAML's {port_dtype}")
            planned[is_input].append(TensorBinding(port.name, is_input, tuple(port.shape), port_dtype, engine_dtype))
    return BindingPlan(tuple(planned[True]), tuple(planned[False]))


def input_shapes(node: ModelNode) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The static input shapes an engine is built for (part of its cache key)."""
    return tuple((p.name, tuple(int(d) for d in p.shape)) for p in node.inputs)
