"""The verified model bytes a backend loads (never the file by path: it may have changed since the hash check)."""

from __future__ import annotations

import io
from typing import Any

from leapp_ros.bundle import ModelNode
from leapp_ros.errors import EngineError


def model_bytes(node: ModelNode) -> bytes:
    """The bytes the loader hashed (ONNX external data inlined)."""
    if not node.model_bytes:
        raise EngineError(f"node '{node.name}': no verified model bytes (load the bundle with load_bundle)")
    return node.model_bytes


def load_torch_module(torch: Any, node: ModelNode, device: Any) -> Any:  # torch is imported by the caller (optional)
    """A TorchScript or ExportedProgram module from the verified bytes, on `device`.

    TorchScript archives are read by TorchScript's own loader (no Python unpickling); `.pt2` archives were
    inspected by the loader, which refused any member torch's weights-only unpickler does not accept.
    """
    buffer = io.BytesIO(model_bytes(node))
    if node.backend == "jit":
        return torch.jit.load(buffer, map_location=device).eval()
    return torch.export.load(buffer).module().to(device)  # an ExportedProgram's module() refuses eval()
