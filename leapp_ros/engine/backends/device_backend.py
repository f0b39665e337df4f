"""Base of the GPU backends: static device buffers, pinned host staging, one stream, optional CUDA graph."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from leapp_ros.bundle import ModelNode
from leapp_ros.engine.backends.base import BackendOptions
from leapp_ros.engine.backends.cuda_buffers import Arena, device_summary, import_torch_cuda
from leapp_ros.errors import EngineError

WARM_UP_RUNS = 3  # TorchScript's profiling executor specialises on the first runs; capture after them


class DeviceBackend:
    """Runs one node on a CUDA device. Subclasses load the model and implement `launch()`.

    `launch()` enqueues the model on `self.stream`, reading `self.inputs[name].device` and writing
    `self.outputs[name].device`; it never synchronises. Two ways to drive it:
    - `run(feed)` (the engine's Backend protocol): numpy in, H2D through pinned buffers, launch, D2H, sync.
    - `DeviceEngine` wires several backends' device buffers together and keeps feedback state on the device.
    With `options.extra["cuda_graph"]` and a capturable backend, the H2D + launch + D2H tick is one graph replay.
    """

    name = "device"
    capturable = True  # whether launch() may be recorded into a torch CUDA graph

    def __init__(self, node: ModelNode, options: BackendOptions, stream: Any = None) -> None:
        torch = import_torch_cuda(options.device)
        self.node = node
        self.options = options
        self._torch = torch
        self.device = torch.device(options.device)
        self.stream = stream if stream is not None else torch.cuda.Stream(device=self.device)
        external = options.extra.get("external_inputs")  # set by DeviceEngine: the ports that cross the bus
        self.input_arena = Arena(torch, node.inputs, self.device, first=external)
        self.output_arena = Arena(torch, node.outputs, self.device)
        self.inputs = self.input_arena.ports
        self.outputs = self.output_arena.ports
        self.cuda_graph = bool(options.extra.get("cuda_graph", False))
        self._graph = None

    # -- subclass API -------------------------------------------------------------------------------------
    def launch(self) -> None:
        raise NotImplementedError

    def library(self) -> str:
        raise NotImplementedError

    # -- driving ------------------------------------------------------------------------------------------
    def finish_setup(self) -> None:
        """Warm up (and capture the per-backend graph when asked); subclasses call this last in __init__."""
        torch = self._torch
        with torch.cuda.device(self.device), torch.cuda.stream(self.stream):
            for _ in range(WARM_UP_RUNS):
                self._tick()
        self.stream.synchronize()
        if self.cuda_graph and self.capturable:
            self._graph = capture(torch, self.stream, self._tick, self.device)

    def _tick(self) -> None:
        self.input_arena.upload()
        self.launch()
        self.output_arena.download()

    def run(self, feed: Mapping[str, np.ndarray]) -> Sequence[np.ndarray]:
        for name, buf in self.inputs.items():
            np.copyto(buf.host_view, feed[name])
        execute(self._torch, self._graph, self.stream, self._tick, self.device)
        return [buf.host_view.copy() for buf in self.outputs.values()]

    def describe(self) -> dict[str, object]:
        info = device_summary(self._torch, self.device)
        mode = "cuda-graph" if self._graph is not None else self.graph_mode()
        return {"backend": self.name, "library": self.library(), **info, "execution": mode}

    def graph_mode(self) -> str:
        return "eager"

    def close(self) -> None:
        self._graph = None


def execute(torch: Any, graph: Any, stream: Any, tick: Callable[[], None], device: Any) -> None:
    """One tick and its wait: replay `graph` when captured, else run `tick` on `stream`."""
    if graph is not None:
        graph.replay()  # launches on the current stream: wait for the whole device
        torch.cuda.synchronize(device)
    else:
        with torch.cuda.stream(stream):
            tick()
        stream.synchronize()


def capture(torch: Any, stream: Any, fn: Callable[[], None], device: Any) -> Any:
    """Record `fn` (which enqueues on the current stream) as a CUDA graph on `stream`."""
    graph = torch.cuda.CUDAGraph()
    try:
        with torch.cuda.device(device):
            with torch.cuda.graph(graph, stream=stream):
                fn()
        stream.synchronize()
    except Exception as exc:  # noqa: BLE001 - capture errors come as RuntimeError from several layers
        raise EngineError(f"CUDA graph capture failed: {str(exc).strip().splitlines()[0]}") from None
    return graph
