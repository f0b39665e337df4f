"""Backend registry: names, which model formats each runs, and lazy construction."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from leapp_ros.bundle import ModelNode
from leapp_ros.engine.backends.base import Backend, BackendOptions
from leapp_ros.errors import EngineError


@dataclass(frozen=True)
class BackendEntry:
    module: str
    cls: str
    formats: tuple[str, ...]  # node `backend` values it can run


REGISTRY: dict[str, BackendEntry] = {
    "onnxruntime": BackendEntry("leapp_ros.engine.backends.onnxruntime_backend", "OnnxRuntimeBackend", ("onnx",)),
    "torch": BackendEntry("leapp_ros.engine.backends.torch_backend", "TorchBackend", ("jit", "pt2")),
}
NATURAL = {"onnx": "onnxruntime", "jit": "torch", "pt2": "torch"}


def register(name: str, entry: BackendEntry) -> None:
    """Add a backend (GPU backends register themselves from their own modules)."""
    REGISTRY[name] = entry


def backend_names() -> list[str]:
    return sorted(REGISTRY)


def create_backend(node: ModelNode, options: BackendOptions) -> Backend:
    """Build the backend that runs `node` as `options` ask; refuse combinations that cannot work."""
    name = NATURAL[node.backend] if options.backend == "auto" else options.backend
    entry = REGISTRY.get(name)
    if entry is None:
        raise EngineError(f"unknown backend '{name}' (known: auto, {', '.join(backend_names())})")
    if node.backend not in entry.formats:
        raise EngineError(f"node '{node.name}': backend '{name}' cannot run '{node.backend}' models "
                          f"(it runs {', '.join(entry.formats)})")
    cls = getattr(importlib.import_module(entry.module), entry.cls)
    backend: Backend = cls(node, options)
    return backend


__all__ = ["Backend", "BackendEntry", "BackendOptions", "REGISTRY", "backend_names", "create_backend", "register"]

# --- GPU backends (one line each) -------------------------------------------------------------------------------------
register("onnxruntime-cuda",
         BackendEntry("leapp_ros.engine.backends.onnxruntime_cuda", "OnnxRuntimeCudaBackend", ("onnx",)))
register("onnxruntime-tensorrt",
         BackendEntry("leapp_ros.engine.backends.onnxruntime_cuda", "OnnxRuntimeTensorRTBackend", ("onnx",)))
register("torch-cuda", BackendEntry("leapp_ros.engine.backends.torch_cuda", "TorchCudaBackend", ("jit", "pt2")))
register("tensorrt", BackendEntry("leapp_ros.engine.backends.tensorrt_backend", "TensorRTBackend", ("onnx",)))
