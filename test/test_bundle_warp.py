"""Models with Warp kernel segments (leapp 0.7's leapp::warp_runner) are refused in one line naming the kernels
and what running them would need."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
import yaml

from leapp_ros.bundle import BundleError, load_bundle
from leapp_ros.bundle.warp import wrpb_files


def wrpb(files: list[tuple[str, bytes]]) -> bytes:
    """A WRPB archive as leapp packs one (magic, version 1, count, length-prefixed names and payloads)."""
    out = bytearray(b"WRPB" + struct.pack("<II", 1, len(files)))
    for name, data in files:
        out += struct.pack("<I", len(name.encode())) + name.encode() + struct.pack("<Q", len(data)) + data
    return bytes(out)


ARCHIVE = [("segment.wrp", b"apic graph"), ("segment_modules/wp_reach_ik_5f3a.cubin", b"\x7fELF"),
           ("segment_modules/wp_reach_ik_5f3a.meta", b"{}")]


def warp_bundle(directory: Path, declared: int) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    directory.mkdir(parents=True)
    blob = numpy_helper.from_array(np.frombuffer(wrpb(ARCHIVE), np.uint8), "warp_bundle")
    graph = helper.make_graph(
        [helper.make_node(WRP, ["joint_pos_in", "warp_bundle"], ["ik"], name="warp_runner_0",
                          domain="com.nvidia.warp", runtime_metadata="{}"),
         helper.make_node("Identity", ["ik"], ["joint_pos"])], "warp",
        [helper.make_tensor_value_info("joint_pos_in", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("joint_pos", TensorProto.FLOAT, [1, 2])], [blob])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid("com.nvidia.warp", 1)])
    onnx.save(model, str(directory / "Policy.onnx"))
    data = (directory / "Policy.onnx").read_bytes()
    port = {"dtype": "float32", "shape": [1, 2], "type": "tensor"}
    document = {
        "models": {"Policy": {"inputs": [{"name": "joint_pos_in", **port}], "outputs": [{"name": "joint_pos", **port}],
                              "parameters": {"model_path": "Policy.onnx", "md5sum": hashlib.md5(data).hexdigest(),
                                             "sha256sum": hashlib.sha256(data).hexdigest(), "backend": "onnx",
                                             "warp_segments": declared, "opset_version": 17}}},
        "pipeline": {"data_flow": {}, "feedback_flow": {}, "inputs": {"Policy": ["joint_pos_in"]},
                     "outputs": {"Policy": ["joint_pos"]}},
        "system information": {"leapp config version": "1.3", "leapp version": "0.7.2"},
    }
    path = directory / "warp.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


WRP = "WrpRunner"


def test_wrpb_archive_file_names():
    assert wrpb_files(wrpb(ARCHIVE)) == tuple(name for name, _ in ARCHIVE)
    assert wrpb_files(b"not an archive") == ()


@pytest.mark.parametrize("declared", [1, 0], ids=["declared", "undeclared_in_yaml"])
def test_warp_segment_is_refused_naming_the_kernel_and_the_need(tmp_path, declared):
    with pytest.raises(BundleError) as info:
        load_bundle(warp_bundle(tmp_path / "b", declared))
    message = str(info.value)
    assert "\n" not in message
    assert "node 'Policy'" in message and "segment 'warp_runner_0'" in message
    assert "wp_reach_ik_5f3a.cubin" in message
    assert "CUDA GPU" in message and "leapp-build-warp-runtime" in message and "no CPU form" in message
