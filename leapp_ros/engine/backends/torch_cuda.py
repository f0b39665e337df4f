"""PyTorch on CUDA for `jit` and `pt2` nodes: static buffers, eager launches or one CUDA-graph replay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leapp_ros.bundle import ModelNode
from leapp_ros.engine.backends.base import BackendOptions
from leapp_ros.engine.backends.device_backend import DeviceBackend
from leapp_ros.engine.backends.model_source import load_torch_module
from leapp_ros.engine.backends.parity import require_parity
from leapp_ros.errors import EngineError
from leapp_ros.text import exception_summary


class TorchCudaBackend(DeviceBackend):
    """TorchScript / ExportedProgram module on the GPU; outputs are copied into static buffers."""

    name = "torch-cuda"

    def __init__(self, node: ModelNode, options: BackendOptions, stream: Any = None) -> None:
        if node.backend not in ("jit", "pt2"):
            raise EngineError(f"node '{node.name}': backend 'torch-cuda' runs jit/pt2 models, not '{node.backend}'")
        super().__init__(node, options, stream)
        torch = self._torch
        try:
            module = load_torch_module(torch, node, self.device)
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise EngineError(f"node '{node.name}': PyTorch cannot load '{node.model_path.name}' on "
                              f"{self.device}: {exception_summary(exc)}") from None
        self._module = module
        self._args = [self.inputs[p.name].device for p in node.inputs]
        self._outs = [self.outputs[p.name].device for p in node.outputs]
        self._checked = False
        self.finish_setup()
        self.parity = require_parity(self, node, options)

    def launch(self) -> None:
        with self._torch.no_grad():
            result = self._module(*self._args)
            results = (result,) if isinstance(result, self._torch.Tensor) else tuple(result)
            if len(results) != len(self._outs):
                raise EngineError(f"node '{self.node.name}': the model returned {len(results)} outputs, "
                                  f"the YAML declares {len(self._outs)}")
            if not self._checked:  # once, at warm-up: a silent broadcast in copy_ would hide a wrong shape
                self._check(results)
            for out, value in zip(self._outs, results):
                out.copy_(value)  # copy: jit/pt2 return constant buffers (kp/kd) by reference

    def _check(self, results: Sequence[Any]) -> None:
        for port, out, value in zip(self.node.outputs, self._outs, results):
            if tuple(value.shape) != tuple(out.shape) or value.dtype != out.dtype:
                raise EngineError(f"node '{self.node.name}', output '{port.name}': the model returned "
                                  f"{value.dtype}{list(value.shape)}, the YAML declares {port.dtype}{list(port.shape)}")
        self._checked = True

    def library(self) -> str:
        return f"torch {self._torch.__version__} (cuda {self._torch.version.cuda})"

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "format": self.node.backend}

    def close(self) -> None:
        super().close()
        self._module = None
