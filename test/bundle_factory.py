"""Write small valid bundles by hand (ONNX built with onnx.helper) for loader and schema tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml


def legacy_g1_like_bundle(directory: Path) -> Path:
    """A leapp 0.3.x bundle as NVIDIA ships them: feedback_connections, is_state, semantic block, triton backend.

    The model computes action = joint_pos + last_actions and feeds the action back as last_actions.
    """
    import onnx
    from onnx import TensorProto, helper

    directory.mkdir(parents=True, exist_ok=True)
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("Add", ["joint_pos", "last_actions"], ["action_joint_pos"]),
         helper.make_node("Identity", ["action_joint_pos"], ["last_actions_out"]),
         helper.make_node("ReduceSum", ["root_link_quat_w"], ["quat_sum"], keepdims=1),
         helper.make_node("Mul", ["action_joint_pos", "quat_sum"], ["scaled"]),
         helper.make_node("Identity", ["scaled"], ["scaled_action"])],
        "legacy",
        [helper.make_tensor_value_info("root_link_quat_w", f32, [1, 4]),
         helper.make_tensor_value_info("joint_pos", f32, [1, 3]),
         helper.make_tensor_value_info("last_actions", f32, [1, 3])],
        [helper.make_tensor_value_info("action_joint_pos", f32, [1, 3]),
         helper.make_tensor_value_info("last_actions_out", f32, [1, 3]),
         helper.make_tensor_value_info("scaled_action", f32, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model_path = directory / "legacy.onnx"
    onnx.save(model, str(model_path))
    data = model_path.read_bytes()
    joints = ["a_joint", "b_joint", "c_joint"]
    port = lambda name, shape, **kw: {"name": name, "dtype": "float32", "shape": shape, "type": "tensor", **kw}  # noqa: E731
    document = {
        "models": {"Velocity-Legacy-v0": {
            "inputs": [port("root_link_quat_w", [1, 4], kind="state/body/rotation",
                            element_names=[["pelvis"], ["w", "x", "y", "z"]]),
                       port("joint_pos", [1, 3], kind="state/joint/position", element_names=[joints]),
                       port("last_actions", [1, 3], is_state=True)],
            "outputs": [port("action_joint_pos", [1, 3], kind="target/joint/position", element_names=[joints]),
                        port("last_actions_out", [1, 3], is_state=True),
                        port("scaled_action", [1, 3])],
            "parameters": {"model_path": "legacy.onnx", "md5sum": hashlib.md5(data).hexdigest(),
                           "sha256sum": hashlib.sha256(data).hexdigest(), "device": "cuda", "backend": "triton"}}},
        "pipeline": {"data_flow": {},
                     "feedback_connections": {
                         "Velocity-Legacy-v0/last_actions_out": ["Velocity-Legacy-v0/last_actions"]},
                     "inputs": {"Velocity-Legacy-v0": ["root_link_quat_w", "joint_pos"]},
                     "outputs": {"Velocity-Legacy-v0": ["action_joint_pos", "scaled_action"]}},
        "system information": {"cuda version": "12.8", "leapp version": "0.3.0", "os": "Linux"},
        "semantic": {"scene": {"physics_dt": 0.005, "dt": 0.02, "decimation": 4}},
    }
    yaml_path = directory / "legacy.yaml"
    yaml_path.write_text(yaml.safe_dump(document, sort_keys=False))
    return yaml_path
