"""Test helpers for the binding and node areas: write small but valid LEAPP bundles (ONNX via onnx.helper)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURE_BUNDLES = SHARED / "fixtures" / "bundles"


def fixture_bundle_dirs() -> list[Path]:
    return sorted(p for p in FIXTURE_BUNDLES.iterdir() if p.is_dir()) if FIXTURE_BUNDLES.is_dir() else []


@dataclass
class In:
    """A float32 [1, N] input port (or an explicit shape)."""

    name: str
    names: Any = None  # element_names as written in the YAML
    kind: str | None = None
    connection: str | None = None
    shape: Sequence[int] | None = None


@dataclass
class Out:
    """An output: a permutation of one input's last axis (`source`, `take`), or a constant."""

    name: str
    source: str | None = None
    take: Sequence[int] = ()
    constant: Sequence[float] = ()
    names: Any = None
    kind: str | None = None
    connection: str | None = None
    shape: Sequence[int] | None = None


def _shape(port: In | Out, size: int) -> list[int]:
    return list(port.shape) if port.shape is not None else [1, size]


def _size(names: Any, fallback: int) -> int:
    if names is None:
        return fallback
    last = names[-1] if isinstance(names[0], list) else names
    return len(last)


def write_bundle(directory: Path, name: str, inputs: list[In], outputs: list[Out], *, schema: str = "0.7",
                 rate_hz: float | None = 50.0, scene_dt: float | None = None, node: str = "policy") -> Path:
    """Write `<directory>/<name>.yaml` + `<node>.onnx`; return the YAML path."""
    import onnx
    from onnx import TensorProto, helper

    directory.mkdir(parents=True, exist_ok=True)
    sizes = {p.name: int(np.prod(p.shape)) if p.shape else _size(p.names, 3) for p in inputs}
    graph_inputs = [helper.make_tensor_value_info(p.name, TensorProto.FLOAT, _shape(p, sizes[p.name]))
                    for p in inputs]
    nodes, graph_outputs, initializers = [], [], []
    for out in outputs:
        if out.source is not None:
            size = len(out.take)
            index_name = f"{out.name}__index"
            initializers.append(helper.make_tensor(index_name, TensorProto.INT64, [size], list(out.take)))
            flat = f"{out.name}__flat"
            shape_name = f"{out.name}__shape"
            initializers.append(helper.make_tensor(shape_name, TensorProto.INT64, [1], [-1]))
            nodes.append(helper.make_node("Reshape", [out.source, shape_name], [flat]))
            gathered = f"{out.name}__gathered"
            nodes.append(helper.make_node("Gather", [flat, index_name], [gathered], axis=0))
            target_shape = f"{out.name}__target_shape"
            initializers.append(helper.make_tensor(target_shape, TensorProto.INT64, [2], [1, size]))
            nodes.append(helper.make_node("Reshape", [gathered, target_shape], [out.name]))
        else:
            size = len(out.constant)
            nodes.append(helper.make_node("Constant", [], [out.name], value=helper.make_tensor(
                f"{out.name}__value", TensorProto.FLOAT, [1, size], list(out.constant))))
        graph_outputs.append(helper.make_tensor_value_info(out.name, TensorProto.FLOAT, [1, size]))
    graph = helper.make_graph(nodes, node, graph_inputs, graph_outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    model_path = directory / f"{node}.onnx"
    onnx.save(model, model_path)
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()

    def port(p: In | Out, size: int) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": p.name, "dtype": "float32", "shape": _shape(p, size), "type": "tensor"}
        if p.kind is not None:
            entry["kind"] = p.kind
        if p.names is not None:
            entry["element_names"] = p.names
        if p.connection is not None:
            entry["isaaclab_connection"] = p.connection
        return entry

    data: dict[str, Any] = {
        "models": {node: {
            "inputs": [port(p, sizes[p.name]) for p in inputs],
            "outputs": [port(o, len(o.take) or len(o.constant)) for o in outputs],
            "parameters": {"model_path": model_path.name, "md5sum": hashlib.md5(model_path.read_bytes()).hexdigest(),
                           "sha256sum": digest, "backend": "onnx" if schema == "0.7" else "triton"},
        }},
        "pipeline": {"data_flow": {}, "feedback_flow": {}, "inputs": {node: [p.name for p in inputs]},
                     "outputs": {node: [o.name for o in outputs]}},
    }
    if schema == "0.7":
        if rate_hz is not None:
            data["pipeline"]["configs"] = {"frequency": float(rate_hz)}
        data["system information"] = {"leapp config version": "1.3", "leapp version": "0.7.2"}
    else:
        data["system information"] = {"leapp version": "0.3.0"}
        if scene_dt is not None:
            data["semantic"] = {"scene": {"dt": scene_dt}}
    yaml_path = directory / f"{name}.yaml"
    yaml_path.write_text(yaml.safe_dump(data, sort_keys=False))
    return yaml_path


JOINTS_12 = ["LF_HAA", "LH_HAA", "RF_HAA", "RH_HAA", "LF_HFE", "LH_HFE", "RF_HFE", "RH_HFE",
             "LF_KFE", "LH_KFE", "RF_KFE", "RH_KFE"]
G1_JOINTS = [f"g1_joint_{i:02d}" for i in range(29)]


def write_passthrough_bundle(directory: Path, rate_hz: float = 50.0) -> tuple[Path, dict[str, Any]]:
    """Outputs are permutations of the inputs with permuted element names: proves reordering end to end.

    Returns the YAML path and the expected relation: output joint name -> input joint name it copies.
    """
    joints = JOINTS_12
    perm = [7, 2, 11, 0, 5, 9, 1, 3, 10, 4, 8, 6]
    out_names = [joints[i] for i in perm]
    inputs = [
        In("robot_joint_pos", [joints], "state/joint/position", "state:robot:joint_pos"),
        In("robot_joint_vel", [joints], "state/joint/velocity", "state:robot:joint_vel"),
        In("robot_root_quat_w", [["qx", "qy", "qz", "qw"]], "state/body/rotation", "state:robot:root_quat_w"),
        In("base_velocity", [["lin_vel_x", "lin_vel_y", "ang_vel_z"]], "command/body/velocity",
           "command:base_velocity"),
    ]
    outputs = [
        Out("joint_pos", "robot_joint_pos", perm, names=[out_names], kind="target/joint/position",
            connection="write:robot:set_joint_position_target_index"),
        Out("joint_pos_kp_gains", constant=[float(10 + i) for i in range(12)], names=[out_names], kind="kp",
            connection="write:robot:write_joint_stiffness_to_sim_index"),
        Out("joint_pos_kd_gains", constant=[float(i) / 10 for i in range(12)], names=[out_names], kind="kd",
            connection="write:robot:write_joint_damping_to_sim_index"),
    ]
    path = write_bundle(directory, "passthrough", inputs, outputs, rate_hz=rate_hz)
    return path, {"joint_pos": dict(zip(out_names, out_names))}


def write_g1_like_bundle(directory: Path) -> Path:
    """A leapp 0.3-style bundle shaped like NVIDIA's G1 one: w-first per-body rotation, [[lin_x, lin_y, ang_z]],
    29 joints in, a 14-joint target with 14-joint kp/kd, rate from semantic.scene.dt."""
    arm = G1_JOINTS[15:29]
    inputs = [
        In("base_ang_vel", [["pelvis"], ["x", "y", "z"]], "state/body/angular_velocity", shape=[1, 3]),
        In("base_rot", [["pelvis"], ["w", "x", "y", "z"]], "state/body/rotation", shape=[1, 4]),
        In("command", [["lin_x", "lin_y", "ang_z"]], "command/body/velocity"),
        In("joint_pos", [G1_JOINTS], "state/joint/position"),
        In("joint_vel", [G1_JOINTS], "state/joint/velocity"),
    ]
    take = [G1_JOINTS.index(j) for j in arm]
    outputs = [
        Out("action", "joint_pos", take, names=[arm], kind="target/joint/position"),
        Out("action_kp_gains", constant=[40.0 + i for i in range(14)], names=[list(reversed(arm))], kind="kp"),
        Out("action_kd_gains", constant=[1.0 + i for i in range(14)], names=[arm], kind="kd"),
    ]
    return write_bundle(directory, "g1_like", inputs, outputs, schema="0.3", scene_dt=0.02)
