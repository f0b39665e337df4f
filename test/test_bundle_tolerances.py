"""What the loader tolerates (vendor blocks, labels that do not fit) and how binding asks for what it cannot place."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from leapp_ros.binding import BindingSettings, compile_plan
from leapp_ros.binding.fixes import UnplacedPortError
from leapp_ros.bundle import load_bundle
from leapp_ros.engine import Engine
from leapp_ros.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[1]
JOINTS = ["a_joint", "b_joint", "c_joint"]


def command4_bundle(directory: Path, command_names) -> Path:
    """A config-1.3 bundle whose model takes a 4-wide velocity command: target = joint_pos + sum(command)."""
    import onnx
    from onnx import TensorProto, helper
    directory.mkdir(parents=True, exist_ok=True)
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["base_velocity"], ["total"], keepdims=1),
         helper.make_node("Add", ["robot_joint_pos", "total"], ["joint_pos"])], "command4",
        [helper.make_tensor_value_info("robot_joint_pos", f32, [1, 3]),
         helper.make_tensor_value_info("base_velocity", f32, [1, 4])],
        [helper.make_tensor_value_info("joint_pos", f32, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(directory / "Policy.onnx"))
    data = (directory / "Policy.onnx").read_bytes()
    command = {"name": "base_velocity", "dtype": "float32", "shape": [1, 4], "type": "tensor",
               "kind": "command/body/velocity", "isaaclab_connection": "command:base_velocity"}
    if command_names is not None:
        command["element_names"] = [command_names]
    document = {
        "models": {"Policy": {
            "inputs": [{"name": "robot_joint_pos", "dtype": "float32", "shape": [1, 3], "type": "tensor",
                        "kind": "state/joint/position", "element_names": [JOINTS],
                        "isaaclab_connection": "state:robot:joint_pos"}, command],
            "outputs": [{"name": "joint_pos", "dtype": "float32", "shape": [1, 3], "type": "tensor",
                         "kind": "target/joint/position", "element_names": [JOINTS],
                         "isaaclab_connection": "write:robot:set_joint_position_target_index"}],
            "parameters": {"model_path": "Policy.onnx", "md5sum": hashlib.md5(data).hexdigest(),
                           "sha256sum": hashlib.sha256(data).hexdigest(), "backend": "onnx", "warp_segments": 0}}},
        "pipeline": {"configs": {"frequency": 50.0}, "data_flow": {}, "feedback_flow": {},
                     "inputs": {"Policy": ["robot_joint_pos", "base_velocity"]}, "outputs": {"Policy": ["joint_pos"]}},
        "system information": {"leapp config version": "1.3", "leapp version": "0.7.2"},
    }
    path = directory / "command4.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def inspect(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leapp_ros.cli.main", "inspect", str(path), *extra],
                          capture_output=True, text=True, timeout=120, cwd=REPO)


FIX = "ports.base_velocity.element_names: [lin_vel_x, lin_vel_y, ang_vel_z, <element 4>]"


@pytest.mark.parametrize("names, why", [
    (["lin_vel_x", "lin_vel_y", "ang_vel_z"], "3 element names for its 4 values"),
    (None, "3 element names ['lin_vel_x', 'lin_vel_y', 'ang_vel_z'] for its 4 values"),
], ids=["three_names", "no_names"])
def test_four_wide_command_loads_and_binding_names_the_fix(names, why, tmp_path):
    bundle = load_bundle(command4_bundle(tmp_path / "b", names))
    command = bundle.port("Policy/base_velocity")
    assert command.shape == (1, 4) and command.last_axis_names is None
    assert bool(bundle.tolerances) == (names is not None)
    with pytest.raises(UnplacedPortError) as info:
        compile_plan(bundle)
    assert why in str(info.value) and info.value.fix == FIX
    # the engine never needed the labels
    out = Engine(bundle).run({"Policy/robot_joint_pos": np.ones((1, 3), np.float32),
                              "Policy/base_velocity": np.full((1, 4), 0.5, np.float32)})
    np.testing.assert_array_equal(out["Policy/joint_pos"], np.full((1, 3), 3.0, np.float32))


def test_the_printed_parameter_line_places_the_port(tmp_path):
    bundle = load_bundle(command4_bundle(tmp_path / "b", ["lin_vel_x", "lin_vel_y", "ang_vel_z"]))
    names = ["lin_vel_x", "lin_vel_y", "ang_vel_z", "lin_vel_z"]
    plan = compile_plan(bundle, BindingSettings.from_params({"ports.base_velocity.element_names": names}))
    binding = next(b for b in plan.inputs.bindings if b.port.name == "base_velocity")
    assert binding.fields == ("linear.x", "linear.y", "angular.z", "linear.z")


def test_inspect_lists_the_tolerance_and_prints_the_fix_line(tmp_path):
    path = command4_bundle(tmp_path / "b", ["lin_vel_x", "lin_vel_y", "ang_vel_z"])
    result = inspect(path)
    assert result.returncode == 0, result.stderr
    assert "assumed" in result.stdout
    assert "port 'Policy/base_velocity': element_names for axis 1 have 3 names but the axis has size 4" in result.stdout
    assert "\n  " + FIX in result.stdout
    params = tmp_path / "params.yaml"
    fixed = FIX.replace("<element 4>", "lin_vel_z")
    key, value = fixed.split(": ", 1)
    params.write_text(yaml.safe_dump({"/**": {"ros__parameters": {key: yaml.safe_load(value)}}}))
    result = inspect(path, "--params-file", str(params), "--json")
    report = json.loads(result.stdout)
    assert "error" not in report["binding_plan"], report["binding_plan"]
    assert report["tolerances"] and report["config_version"] == "1.3"


def test_joint_labels_that_do_not_fit_are_refused_at_binding_with_the_joint_line(tmp_path):
    path = command4_bundle(tmp_path / "b", ["lin_vel_x", "lin_vel_y", "ang_vel_z", "lin_vel_z"])
    document = yaml.safe_load(path.read_text())
    document["models"]["Policy"]["outputs"][0]["element_names"] = [JOINTS[:2]]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    bundle = load_bundle(path)
    with pytest.raises(ConfigurationError, match=r"port 'joint_pos'.*2 element names for its 3 values") as info:
        compile_plan(bundle)
    # the same-size joint input gives the suggestion
    assert info.value.fix == "ports.joint_pos.joints: [a_joint, b_joint, c_joint]"


def test_vendor_block_is_kept_listed_and_shown(tmp_path):
    path = command4_bundle(tmp_path / "b", ["lin_vel_x", "lin_vel_y", "ang_vel_z", "lin_vel_z"])
    document = yaml.safe_load(path.read_text())
    document["robot_defaults"] = {"joints": {"d_joint": {"default_pos": 0.1, "kp": 20.0, "kd": 1.0}}}
    document["x-notes"] = "free text"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    bundle = load_bundle(path)
    assert dict(bundle.vendor) == {"robot_defaults": document["robot_defaults"], "x-notes": "free text"}
    assert any("'robot_defaults'" in t for t in bundle.tolerances)
    result = inspect(path)
    assert result.returncode == 0, result.stderr
    assert "vendor blocks (kept, not LEAPP's)" in result.stdout and "d_joint" in result.stdout
    assert json.loads(inspect(path, "--json").stdout)["vendor_blocks"]["x-notes"] == "free text"


def test_a_clean_bundle_assumes_nothing(tmp_path):
    bundle = load_bundle(command4_bundle(tmp_path / "b", ["lin_vel_x", "lin_vel_y", "ang_vel_z", "lin_vel_z"]))
    assert bundle.tolerances == () and dict(bundle.vendor) == {}
    assert "assumed  nothing" in inspect(bundle.yaml_path).stdout
