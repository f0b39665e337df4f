"""Warp kernel segments inside exported models (leapp 0.7's `leapp::warp_runner`): found, named, refused.

leapp embeds each segment as a `com.nvidia.warp::WrpRunner` ONNX node (or a `leapp::warp_runner` call in
TorchScript/pt2) whose last input is a WRPB archive: a Warp graph captured with `wp.capture_save` (APIC) plus the
compiled kernel modules. leapp's own runtime replays it only on a CUDA device through a native custom-op library
built against Warp (`leapp-build-warp-runtime`); the capture has no CPU form, so leapp_ros refuses such models.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

WRP_DOMAIN = "com.nvidia.warp"
WRP_OP_TYPE = "WrpRunner"
TORCH_OP = "leapp::warp_runner"
WRPB_MAGIC = b"WRPB"
NEEDS = ("a CUDA GPU and LEAPP's native Warp runtime library (leapp-build-warp-runtime, or "
         "LEAPP_WARP_ONNX_CUSTOM_OP_LIBRARY / LEAPP_WARP_PT2_CUSTOM_OP_LIBRARY), which replays the captured "
         "Warp graph; the capture has no CPU form and leapp_ros loads no native custom-op libraries")


@dataclass(frozen=True)
class WarpSegment:
    node: str  # the WrpRunner node's name in the model graph
    files: tuple[str, ...]  # files of its WRPB archive (the .wrp graph and its compiled kernel modules)

    @property
    def kernels(self) -> tuple[str, ...]:
        """Kernel module files of the archive (`<graph>_modules/...`), else every file."""
        modules = tuple(f.split("/", 1)[1] for f in self.files if "_modules/" in f)
        return modules or self.files


def onnx_segments(model_bytes: bytes) -> list[WarpSegment]:
    """Every WrpRunner node of an ONNX model, with the file list of its embedded WRPB archive."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load_from_string(model_bytes)
    initializers = {t.name: t for t in model.graph.initializer}
    segments = []
    for index, node in enumerate(model.graph.node):
        if node.domain != WRP_DOMAIN or node.op_type != WRP_OP_TYPE:
            continue
        archive = initializers.get(node.input[-1]) if node.input else None
        names = wrpb_files(numpy_helper.to_array(archive).tobytes()) if archive is not None else ()
        segments.append(WarpSegment(node.name or f"#{index}", names))
    return segments


def wrpb_files(data: bytes) -> tuple[str, ...]:
    """File names in a WRPB archive (magic, version, count, then length-prefixed names and payloads)."""
    if data[:4] != WRPB_MAGIC or len(data) < 12:
        return ()
    count = struct.unpack_from("<I", data, 8)[0]
    offset, names = 12, []
    for _ in range(min(count, 10_000)):
        if offset + 4 > len(data):
            break
        (length,) = struct.unpack_from("<I", data, offset)
        name = data[offset + 4: offset + 4 + length].decode("utf-8", "replace")
        offset += 4 + length
        if offset + 8 > len(data):
            break
        (size,) = struct.unpack_from("<Q", data, offset)
        offset += 8 + size
        names.append(name)
    return tuple(names)


def refusal(fmt: str, model_bytes: bytes, declared: int) -> str | None:
    """The one-line refusal for a model holding Warp segments, or None when it holds none."""
    if fmt == "onnx":
        try:
            segments = onnx_segments(model_bytes)
        except Exception:  # noqa: BLE001 - an unreadable model is reported by the engine when it loads
            segments = []
        if not segments and declared == 0:
            return None
        named = "; ".join(f"segment '{s.node}' (kernels: {', '.join(s.kernels[:4]) or 'archive unreadable'}"
                          f"{', ...' if len(s.kernels) > 4 else ''})" for s in segments) or f"{declared} segment(s)"
        return f"the model runs Warp kernels through {WRP_DOMAIN}::{WRP_OP_TYPE}: {named}; running them needs {NEEDS}"
    if declared > 0 or TORCH_OP.encode() in model_bytes or b"warp_runner" in model_bytes:
        return (f"the model runs {declared or 'some'} Warp kernel segment(s) through {TORCH_OP}; running them "
                f"needs {NEEDS}")
    return None
