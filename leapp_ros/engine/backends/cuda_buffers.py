"""CUDA plumbing shared by the GPU backends: torch import, dtype mapping, device and pinned host buffers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from leapp_ros.bundle import Port
from leapp_ros.errors import EngineError

NUMPY_TO_TORCH_NAME = {"float32": "float32", "float64": "float64", "float16": "float16", "int64": "int64",
                       "int32": "int32", "int16": "int16", "int8": "int8", "uint8": "uint8", "bool": "bool"}


def import_torch_cuda(device: str) -> Any:
    """torch with a usable CUDA device `device` ("cuda" or "cuda:N"), or a clear error."""
    if not str(device).startswith("cuda"):
        raise EngineError(f"GPU backends run on a CUDA device; set device 'cuda' (got '{device}')")
    try:
        import torch
    except ImportError:
        raise EngineError("the GPU backends keep their buffers in PyTorch CUDA tensors: install a CUDA build of "
                          "torch (pip install torch; on Jetson the JetPack wheel)") from None
    if not torch.cuda.is_available():
        raise EngineError(f"device '{device}' requested but torch {torch.__version__} sees no CUDA device")
    index = torch.device(device).index or 0
    if index >= torch.cuda.device_count():
        raise EngineError(f"device '{device}' requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    return torch


def torch_dtype(torch: Any, dtype: Any) -> Any:
    name = NUMPY_TO_TORCH_NAME.get(np.dtype(dtype).name)
    if name is None:
        raise EngineError(f"dtype {dtype} has no CUDA buffer mapping")
    return getattr(torch, name)


@dataclass
class PortBuffers:
    """One port's device tensor and its pinned host mirror (a torch tensor and a numpy view of it)."""

    port: Port
    device: Any  # torch.Tensor on the CUDA device
    host: Any  # pinned torch.Tensor
    host_view: np.ndarray  # numpy view of `host` (same memory)


ALIGN = 16


class Arena:
    """All of a node's inputs (or outputs) in one device block and one pinned host block.

    Each port is a typed view into the blocks, so a tick moves every port across the bus in a single copy
    each way instead of one per port (each copy costs a few microseconds, often more than the model).
    Ports named in `first` are laid out first, so `upload(first_only=True)` sends only those (the external
    inputs) and leaves feedback state already on the device untouched.
    """

    def __init__(self, torch: Any, ports: Sequence[Port], device: Any, first: Sequence[str] | None = None) -> None:
        order = sorted(ports, key=lambda p: 0 if first is None or p.name in first else 1)
        offsets, total, self.first_bytes = [], 0, 0
        for port in order:
            offsets.append(total)
            total += -(-port.size * np.dtype(port.dtype).itemsize // ALIGN) * ALIGN
            if first is None or port.name in first:
                self.first_bytes = total
        self.nbytes = total
        self.device_flat = torch.zeros(max(total, ALIGN), dtype=torch.uint8, device=device)
        self.host_flat = torch.zeros(max(total, ALIGN), dtype=torch.uint8, pin_memory=True)
        self.ports: dict[str, PortBuffers] = {}
        for port, offset in zip(order, offsets):
            dtype = torch_dtype(torch, port.dtype)
            nbytes = port.size * np.dtype(port.dtype).itemsize
            dev = self.device_flat[offset:offset + nbytes].view(dtype).view(port.shape)
            host = self.host_flat[offset:offset + nbytes].view(dtype).view(port.shape)
            self.ports[port.name] = PortBuffers(port, dev, host, host.numpy())
        # Keep the node's own port order for callers that iterate.
        self.ports = {p.name: self.ports[p.name] for p in ports}

    def upload(self, first_only: bool = False) -> None:
        n = self.first_bytes if first_only else self.nbytes
        if n:
            self.device_flat[:n].copy_(self.host_flat[:n], non_blocking=True)

    def download(self) -> None:
        if self.nbytes:
            self.host_flat[:self.nbytes].copy_(self.device_flat[:self.nbytes], non_blocking=True)


def device_summary(torch: Any, device: Any) -> dict[str, Any]:
    """Name and compute capability of the CUDA device, for reports and engine-cache keys."""
    index = torch.device(device).index or 0
    props = torch.cuda.get_device_properties(index)
    return {"gpu": props.name, "compute_capability": f"{props.major}.{props.minor}", "device": f"cuda:{index}"}
