"""What the loader accepts: every schema variant, aligned element_names, parsed connections, rates."""

from __future__ import annotations

import numpy as np
import pytest
from bundle_factory import legacy_g1_like_bundle
from conftest import GOLDEN_BUNDLES, shared_path

from leapp_ros.bundle import BundleError, Connection, SchemaVersion, load_bundle, parse_connection
from leapp_ros.bundle.ports import parse_port
from leapp_ros.engine import Engine


@pytest.mark.parametrize("name, schema, rate, feedback", [
    ("anymal_like_flat", SchemaVersion.LEAPP_0_7, 50.0, ["last_action_out -> last_action_in"]),
    ("anymal_like_flat_jit", SchemaVersion.LEAPP_0_7, 50.0, ["last_action -> last_action"]),
    ("anymal_like_flat_pt2", SchemaVersion.LEAPP_0_7, 50.0, ["last_action -> last_action"]),
    ("gru_recurrent", SchemaVersion.LEAPP_0_7, 50.0,
     ["actor_state_out -> actor_state_in", "last_action_out -> last_action_in"]),
    ("franka_fr3_reach", SchemaVersion.LEAPP_0_3, None, []),
])
def test_fixture_bundles_load_with_their_schema(name, schema, rate, feedback):
    bundle = load_bundle(shared_path("fixtures", "bundles", name))
    assert bundle.schema is schema and bundle.rate_hz == rate
    assert [f"{e.source.split('/')[1]} -> {e.target.split('/')[1]}" for e in bundle.feedback] == feedback
    for edge in bundle.feedback:
        assert bundle.port(edge.source).is_state and bundle.port(edge.target).is_state


def test_isaaclab_reference_bundle_loads():
    bundle = load_bundle(shared_path("fixtures", "isaaclab_runs", "anymal_d_flat", "reference",
                                     "Isaac-Velocity-Flat-AnymalD"))
    assert bundle.nodes[0].name == "Isaac-Velocity-Flat-AnymalD" and bundle.rate_hz == 50.0


def test_history_ports_keep_k_1_d_layout_and_int64_counters():
    bundle = load_bundle(shared_path("fixtures", "bundles", "anymal_like_history"))
    node = bundle.nodes[0].name
    assert bundle.port(f"{node}/h_policy_joint_pos_in").shape == (3, 1, 12)
    counter = bundle.port(f"{node}/h_policy_joint_pos_num_pushes_in")
    assert counter.dtype == np.int64 and bundle.initial_value(counter.key).tolist() == [0]


def test_legacy_bundle_with_feedback_connections_runs(tmp_path):
    bundle = load_bundle(legacy_g1_like_bundle(tmp_path / "legacy"))
    assert bundle.schema is SchemaVersion.LEAPP_0_3
    assert bundle.rate_hz == pytest.approx(50.0) and bundle.rate_source == "semantic.scene.dt"
    assert bundle.nodes[0].backend == "onnx"  # 'triton' means an ONNX file
    quat = bundle.port("Velocity-Legacy-v0/root_link_quat_w")
    assert quat.element_names == (("pelvis",), ("w", "x", "y", "z"))
    assert quat.last_axis_names == ("w", "x", "y", "z")
    engine = Engine(bundle)
    frame = {"Velocity-Legacy-v0/root_link_quat_w": np.array([[1, 0, 0, 0]], np.float32),
             "Velocity-Legacy-v0/joint_pos": np.array([[1, 2, 3]], np.float32)}
    first = engine.run(frame)["Velocity-Legacy-v0/action_joint_pos"]
    second = engine.run(frame)["Velocity-Legacy-v0/action_joint_pos"]  # zero-initialised state, then fed back
    np.testing.assert_array_equal(first, [[1, 2, 3]])
    np.testing.assert_array_equal(second, [[2, 4, 6]])


@pytest.mark.parametrize("element_names, shape, aligned", [
    ([["x", "y", "z"]], [1, 3], (None, ("x", "y", "z"))),                       # 0.7: trailing axis
    ([["pelvis"], ["w", "x", "y", "z"]], [1, 4], (("pelvis",), ("w", "x", "y", "z"))),  # 0.3: from axis 0
    ([["b1", "b2"], ["x", "y", "z"]], [1, 2, 3], (None, ("b1", "b2"), ("x", "y", "z"))),
    ("solo", [1, 1], (None, ("solo",))),                                        # bare-string shorthand
    (["a", "b"], [1, 2], (None, ("a", "b"))),                                   # flat-list shorthand
    ([None, ["x", "y", "z"]], [1, 4, 3], (None, None, ("x", "y", "z"))),          # unlabelled axis
    (["__temporal_axis__", ["x", "y"]], [1, 5, 2], (None, None, ("x", "y"))),    # temporal sentinel
    (None, [1, 3], None),
])
def test_element_names_align_to_axes(element_names, shape, aligned):
    raw = {"name": "p", "dtype": "float32", "shape": shape, "type": "tensor", "element_names": element_names}
    assert parse_port(raw, "n", "input", 0, _fail).element_names == aligned


def _fail(message, port=None):
    return ValueError(message)


@pytest.mark.parametrize("element_names, shape, message", [
    ([["x", "y"]], [1, 3], "have 2 names but the axis has size 3"),
    ([["a"], ["b"], ["c"]], [1, 1], "label 3 axes"),
    ([["x", "x", "y"]], [1, 3], "repeat"),
    ([[1, 2]], [1, 2], "list of strings"),
])
def test_element_names_that_do_not_fit_are_refused(element_names, shape, message):
    raw = {"name": "p", "dtype": "float32", "shape": shape, "type": "tensor", "element_names": element_names}
    with pytest.raises(ValueError, match=message):
        parse_port(raw, "n", "input", 0, _fail)


@pytest.mark.parametrize("text, expected", [
    ("state:robot:joint_pos", Connection("state", "robot", "joint_pos")),
    ("state:cam:output.rgb", Connection("state", "cam", "output", "rgb")),
    ("command:base_velocity", Connection("command", None, "base_velocity")),
    ("write:robot:set_joint_position_target_index", Connection("write", "robot", "set_joint_position_target_index")),
    ("write:ego:set_joint_effort_target_index", Connection("write", "ego", "set_joint_effort_target_index")),
])
def test_connections_parse_and_print_back(text, expected):
    parsed = parse_connection(text)
    assert parsed == expected and str(parsed) == text


@pytest.mark.parametrize("text, message", [
    ("action:robot:x", "unknown form 'action'"), ("state:robot", "expected 'state:<entity>:<attribute>'"),
    ("command:", "expected 'command:<name>'"), ("write:robot:m.k", "take no '.key'"), ("", "non-empty"),
])
def test_bad_connections_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_connection(text)


def test_every_golden_bundle_has_its_golden_file():
    for name in GOLDEN_BUNDLES:
        assert (shared_path("fixtures", "bundles", name) / "inference_check.json").is_file()


def test_directory_with_two_yaml_files_is_ambiguous(tmp_path):
    (tmp_path / "a.yaml").write_text("{}")
    (tmp_path / "b.yaml").write_text("{}")
    with pytest.raises(BundleError, match="exactly one bundle YAML"):
        load_bundle(tmp_path)
