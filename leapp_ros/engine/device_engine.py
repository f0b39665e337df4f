"""DeviceEngine: the Engine's contract with feedback state and data_flow kept on the GPU between ticks.

Only external inputs and outputs cross the bus, through pinned host buffers. With `extra["cuda_graph"]` and
backends that can be captured (torch-cuda, tensorrt) the whole tick - H2D copies, every node, data_flow and
feedback copies, D2H copies - is one CUDA-graph replay. Same public API as `leapp_ros.engine.Engine`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from leapp_ros.bundle import Bundle, load_bundle
from leapp_ros.engine.backends import REGISTRY, BackendOptions
from leapp_ros.engine.backends.cuda_buffers import import_torch_cuda
from leapp_ros.engine.backends.device_backend import DeviceBackend, capture, execute
from leapp_ros.errors import EngineError

NATURAL_GPU = {"onnx": "onnxruntime-cuda", "jit": "torch-cuda", "pt2": "torch-cuda"}


def device_backend_class(name: str, node_format: str) -> Any:
    entry = REGISTRY.get(name)
    if entry is None or node_format not in entry.formats:
        raise EngineError(f"backend '{name}' cannot run '{node_format}' models on the device engine")
    cls = getattr(importlib.import_module(entry.module), entry.cls)
    if not issubclass(cls, DeviceBackend):
        raise EngineError(f"backend '{name}' is not a GPU backend; DeviceEngine runs "
                          f"{', '.join(sorted(set(NATURAL_GPU.values()) | {'onnxruntime-tensorrt', 'tensorrt'}))}")
    return cls


class DeviceEngine:
    """Runs a bundle's nodes on one CUDA stream; `run`/`reset`/`feedback_state` behave as `Engine`'s."""

    def __init__(self, bundle: Bundle, options: BackendOptions) -> None:
        torch = import_torch_cuda(options.device)
        self.bundle = bundle
        self.options = options
        self._torch = torch
        self.device = torch.device(options.device)
        self.stream = torch.cuda.Stream(device=self.device)
        want_graph = bool(options.extra.get("cuda_graph", False))
        self._backends: list[DeviceBackend] = []
        try:
            for node in bundle.nodes:
                name = NATURAL_GPU[node.backend] if options.backend == "auto" else options.backend
                cls = device_backend_class(name, node.backend)
                # Capturable backends are captured here as part of the whole tick, not one by one.
                node_extra = {**options.extra, "cuda_graph": want_graph and not cls.capturable,
                              "external_inputs": tuple(p.name for p in bundle.inputs if p.node == node.name)}
                node_options = dataclasses.replace(options, backend=name, extra=node_extra)
                self._backends.append(cls(node, node_options, stream=self.stream))
        except BaseException:
            self.close()
            raise
        by_node = {b.node.name: b for b in self._backends}

        def device_buffer(key: str, output: bool) -> Any:
            node, _, port = key.partition("/")
            return (by_node[node].outputs if output else by_node[node].inputs)[port]

        self._external_in = [(p.key, device_buffer(p.key, False)) for p in bundle.inputs]
        self._external_out = [(p.key, device_buffer(p.key, True)) for p in bundle.outputs]
        # data_flow copies right after their source node ran; feedback copies after the whole tick.
        self._flows = [[(device_buffer(e.source, True).device, device_buffer(e.target, False).device)
                        for e in bundle.data_flow if e.source.partition("/")[0] == b.node.name]
                       for b in self._backends]
        self._feedback = [(device_buffer(e.source, True).device, device_buffer(e.target, False).device)
                          for e in bundle.feedback]
        self._state = {e.target: device_buffer(e.target, False).device for e in bundle.feedback}
        external_nodes = {p.node for p in bundle.inputs}
        self._uploads = [b.input_arena for b in self._backends if b.node.name in external_nodes]
        self._downloads = [b.output_arena for b in self._backends if b.node.name in {p.node for p in bundle.outputs}]
        self._graph = None
        if want_graph and all(b.capturable for b in self._backends):
            with torch.cuda.stream(self.stream):
                for _ in range(3):
                    self._tick()
            self.stream.synchronize()
            self._graph = capture(torch, self.stream, self._tick, self.device)
        self.reset()  # warm-up, parity checks and capture ran on the state buffers: start clean

    @classmethod
    def load(cls, path: str | Path, options: BackendOptions) -> DeviceEngine:
        return cls(load_bundle(path), options)

    @property
    def input_keys(self) -> list[str]:
        return [key for key, _ in self._external_in]

    @property
    def output_keys(self) -> list[str]:
        return [key for key, _ in self._external_out]

    def describe(self) -> list[dict[str, object]]:
        mode = "cuda-graph (whole tick)" if self._graph is not None else "stream"
        return [{"node": b.node.name, **b.describe(), "engine": f"device ({mode})"} for b in self._backends]

    def _tick(self) -> None:
        for arena in self._uploads:  # external inputs only: state stays on the device
            arena.upload(first_only=True)
        for backend, flows in zip(self._backends, self._flows):
            backend.launch()
            for source, target in flows:
                target.copy_(source)
        for source, target in self._feedback:
            target.copy_(source)
        for arena in self._downloads:
            arena.download()

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if len(inputs) != len(self._external_in):
            self._raise_key_mismatch(inputs)
        for key, buf in self._external_in:
            value = inputs.get(key)
            if value is None:
                self._raise_key_mismatch(inputs)
                raise AssertionError  # _raise_key_mismatch raises
            port = buf.port
            if value.shape != port.shape or value.dtype != port.dtype:
                raise EngineError(f"input '{key}' must be {port.dtype}{list(port.shape)}, got "
                                  f"{getattr(value, 'dtype', type(value).__name__)}{list(getattr(value, 'shape', []))}")
            np.copyto(buf.host_view, value)
        execute(self._torch, self._graph, self.stream, self._tick, self.device)
        return {key: buf.host_view.copy() for key, buf in self._external_out}

    def reset(self) -> None:
        """Restore every feedback buffer on the device from the bundle's initial values (zeros where absent)."""
        torch = self._torch
        for key, tensor in self._state.items():
            value = np.ascontiguousarray(self.bundle.initial_value(key))
            tensor.copy_(torch.from_numpy(value.copy()).to(self.device))
        torch.cuda.synchronize(self.device)

    def feedback_state(self) -> dict[str, np.ndarray]:
        self.stream.synchronize()
        return {key: tensor.cpu().numpy().copy() for key, tensor in self._state.items()}

    def _raise_key_mismatch(self, inputs: Mapping[str, np.ndarray]) -> None:
        expected = set(self.input_keys)
        missing = sorted(expected - set(inputs))
        unknown = sorted(set(inputs) - expected)
        parts = ([f"missing {missing}"] if missing else []) + ([f"unknown {unknown}"] if unknown else [])
        raise EngineError("pipeline inputs do not match the bundle: " + "; ".join(parts or ["None value given"]))

    def close(self) -> None:
        self._graph = None
        for backend in self._backends:
            backend.close()
        self._backends = []

    def __enter__(self) -> DeviceEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
