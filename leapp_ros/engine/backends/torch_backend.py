"""PyTorch backend for `jit` (TorchScript) and `pt2` (torch.export) nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from leapp_ros.bundle import ModelNode
from leapp_ros.engine.backends.base import BackendOptions
from leapp_ros.engine.backends.model_source import load_torch_module
from leapp_ros.errors import EngineError
from leapp_ros.text import exception_summary


def import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise EngineError("PyTorch is not installed; jit/pt2 bundles need it: "
                          "pip install torch (the CPU build is enough)") from None
    return torch


class TorchBackend:
    """Runs a TorchScript or ExportedProgram node eagerly under inference mode."""

    name = "torch"

    def __init__(self, node: ModelNode, options: BackendOptions) -> None:
        torch = import_torch()
        if node.backend not in ("jit", "pt2"):
            raise EngineError(f"node '{node.name}': backend 'torch' runs jit/pt2 models, not '{node.backend}'")
        if options.device != "cpu" and not torch.cuda.is_available():
            raise EngineError(f"node '{node.name}': device '{options.device}' requested but torch sees no CUDA")
        self.node = node
        self._torch = torch
        self._device = torch.device(options.device)
        if options.intra_op_threads > 0 and torch.get_num_threads() != options.intra_op_threads:
            torch.set_num_threads(options.intra_op_threads)  # process-wide; torch defaults to every core
        self._input_names = [p.name for p in node.inputs]
        try:
            module = load_torch_module(torch, node, self._device)
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - torch raises RuntimeError and friends
            raise EngineError(f"node '{node.name}': PyTorch cannot load '{node.model_path.name}': "
                              f"{exception_summary(exc)}") from None
        self._module = module
        self._n_outputs = len(node.outputs)
        self._on_cpu = self._device.type == "cpu"
        self._inference_mode = torch.inference_mode

    def run(self, feed: Mapping[str, np.ndarray]) -> Sequence[np.ndarray]:
        torch = self._torch
        from_numpy = torch.from_numpy
        with self._inference_mode():
            if self._on_cpu:
                result = self._module(*[from_numpy(feed[name]) for name in self._input_names])
            else:
                result = self._module(*[from_numpy(feed[name]).to(self._device) for name in self._input_names])
        outputs = (result,) if isinstance(result, torch.Tensor) else result
        if len(outputs) != self._n_outputs:
            raise EngineError(f"node '{self.node.name}': the model returned {len(outputs)} outputs, "
                              f"the YAML declares {self._n_outputs}")
        # Copy out: TorchScript/ExportedProgram return constant buffers (kp/kd) by reference.
        if self._on_cpu:
            return [o.numpy().copy() for o in outputs]
        return [o.cpu().numpy() for o in outputs]  # .cpu() of a CUDA tensor is already a fresh host copy

    def describe(self) -> dict[str, object]:
        return {"backend": self.name, "library": f"torch {self._torch.__version__}", "device": str(self._device),
                "format": self.node.backend, "threads": self._torch.get_num_threads()}

    def close(self) -> None:
        self._module = None
