"""The small interface every inference backend implements, and the options that choose one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from leapp_ros.bundle import ModelNode


@dataclass(frozen=True)
class BackendOptions:
    """How to run the models of a bundle.

    backend: "auto" (each node on its natural CPU runtime: ONNX Runtime for `onnx`, PyTorch for `jit`/`pt2`),
             or a backend name from `leapp_ros.engine.backends.BACKEND_NAMES`.
    device: "cpu" or "cuda" (backends that cannot honour it refuse at load).
    """

    backend: str = "auto"
    device: str = "cpu"
    intra_op_threads: int = 1  # one thread is fastest for small policy MLPs and keeps latency steady
    graph_optimization: str = "basic"  # leapp notes ENABLE_ALL can corrupt some exported Gemm chains
    extra: Mapping[str, Any] = field(default_factory=dict)  # backend-specific settings


class Backend(Protocol):
    """Runs one model node. `run` takes the node's inputs by name and returns its outputs in YAML order.

    Contract: `run` never mutates the arrays it is given and returns arrays the caller owns (no aliasing of
    model constants or internal buffers), so the engine can hand them straight to its caller.
    """

    name: str
    node: ModelNode

    def run(self, feed: Mapping[str, np.ndarray]) -> Sequence[np.ndarray]: ...

    def describe(self) -> dict[str, object]:
        """Settings worth reporting (provider, threads, device, library version)."""
        ...

    def close(self) -> None: ...
