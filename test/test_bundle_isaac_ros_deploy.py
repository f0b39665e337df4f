"""Isaac ROS Deploy graph configs load directly (inspect, replay, run), mapped onto the same bundle objects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from isaac_ros_deploy_configs import (
    JOINTS,
    KP,
    SINGLE,
    multi_reference,
    single_reference,
    write_multi,
    write_single,
)
from transport_helpers import dds_env  # noqa: F401 - module fixture: loopback CYCLONEDDS_URI + unique domain

from leapp_ros.binding import compile_plan
from leapp_ros.bundle import BundleError, SchemaVersion, load_bundle
from leapp_ros.engine import Engine

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leapp_ros.cli.main", *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO)


def test_single_model_config_maps_onto_the_bundle_objects(tmp_path):
    bundle = load_bundle(write_single(tmp_path / "walker"))
    assert bundle.schema is SchemaVersion.ISAAC_ROS_DEPLOY and bundle.config_version is None
    (node,) = bundle.nodes
    # formatting: model input order and the model's tensor names
    assert [p.name for p in node.inputs] == ["base_ang_vel", "joint_pos", "prev"]
    assert [p.name for p in node.outputs] == ["targets", "stiffness", "damping"]
    assert all(p.dtype == np.float32 for p in (*node.inputs, *node.outputs))
    assert [(e.source, e.target) for e in bundle.feedback] == [("walker/targets", "walker/prev")]
    assert [p.key for p in bundle.inputs] == ["walker/joint_pos", "walker/base_ang_vel"]  # pipeline.inputs order
    joint_pos = bundle.port("walker/joint_pos")
    assert joint_pos.element_names == (None, tuple(JOINTS)) and joint_pos.kind == "state/joint/position"
    assert bundle.port("walker/prev").kind is None  # 'feedback/...' is wiring, not semantics
    assert [bundle.port(f"walker/{n}").kind for n in ("targets", "stiffness", "damping")] == [
        "target/joint/position", "kp", "kd"]
    assert dict(bundle.vendor) == {"nn_joint_order": JOINTS}
    text = "\n".join(bundle.tolerances)
    for expected in ("not hash-verified", "float32 assumed for 6 ports", "formatting.input_format order",
                     "port 'prev_targets' is the model's tensor 'prev'", "kind 'joint_pos_targets' read as",
                     "top-level block 'nn_joint_order'"):
        assert expected in text, text


def test_single_model_runs_like_its_reference(tmp_path):
    bundle = load_bundle(write_single(tmp_path / "walker"))
    rng = np.random.default_rng(5)
    q, w = rng.standard_normal((6, 1, 3)).astype(np.float32), rng.standard_normal((6, 1, 3)).astype(np.float32)
    engine = Engine(bundle)
    for step, want in enumerate(single_reference(q, w)):
        out = engine.run({"walker/joint_pos": q[step], "walker/base_ang_vel": w[step]})
        np.testing.assert_allclose(out["walker/targets"], want, atol=1e-6, rtol=0)
        np.testing.assert_array_equal(out["walker/stiffness"], np.array([KP], np.float32))
    plan = compile_plan(bundle)
    (target,) = plan.outputs.targets
    assert target.joints == tuple(JOINTS) and {g.role.value for g in target.gains} == {"kp", "kd"}


def test_multi_model_graph_with_cross_model_feedback(tmp_path):
    bundle = load_bundle(write_multi(tmp_path / "multi"))
    assert [n.name for n in bundle.nodes] == ["encoder", "decoder"]
    assert {(e.source, e.target) for e in bundle.feedback} == {("decoder/acc_out", "decoder/acc"),
                                                              ("decoder/carry", "encoder/mem")}
    q = np.random.default_rng(9).standard_normal((7, 1, 2)).astype(np.float32)
    engine = Engine(bundle)
    for step, want in enumerate(multi_reference(q)):
        out = engine.run({"encoder/q": q[step]})
        np.testing.assert_allclose(out["decoder/action"], want, atol=1e-6, rtol=0)


def test_initial_values_start_the_feedback_state(tmp_path):
    from safetensors.numpy import save_file
    path = write_multi(tmp_path / "multi")
    acc0 = np.array([[0.5, -1.5]], np.float32)
    save_file({"decoder/acc": acc0}, str(path.parent / "multi_initial_values.safetensors"))
    initial = "pipeline:\n  initial_values: multi_initial_values.safetensors\n"
    path.write_text(path.read_text().replace("pipeline:\n", initial))
    bundle = load_bundle(path)
    np.testing.assert_array_equal(bundle.initial_value("decoder/acc"), acc0)
    q = np.random.default_rng(4).standard_normal((4, 1, 2)).astype(np.float32)
    engine = Engine(bundle)
    for step, want in enumerate(multi_reference(q, acc0)):
        np.testing.assert_allclose(engine.run({"encoder/q": q[step]})["decoder/action"], want, atol=1e-6, rtol=0)


def test_cli_inspect_and_replay_take_the_config(tmp_path):
    path = write_multi(tmp_path / "multi")
    shown = cli("inspect", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "schema   isaac-ros-deploy" in shown.stdout and "not hash-verified" in shown.stdout
    q = np.random.default_rng(2).standard_normal((5, 1, 2)).astype(np.float32)
    steps = [{"inputs": {"encoder/q": q[i].ravel().tolist()},
              "outputs": {"decoder/action": want.ravel().tolist()}} for i, want in enumerate(multi_reference(q))]
    recorded = tmp_path / "recorded.json"
    recorded.write_text(json.dumps({"steps": steps}))
    replayed = cli("replay", str(path), "--inputs", str(recorded), "--check", "--atol", "1e-6", "--rtol", "0")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "check passed: 5 recorded outputs" in replayed.stdout


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("backend: triton", "backend: mock"), "backend 'mock' of the Isaac ROS Deploy config"),
    (lambda t: t.replace("      model_path: walker.onnx\n", ""), "parameters.model_path is missing"),
    (lambda t: t.replace("      element_names: [[], *joints]\n    - name: base_ang_vel",
                         "      element_names: [[], *joints]\n      history_length: 5\n    - name: base_ang_vel"),
     "port 'joint_pos': 'history_length: 5' asks the Isaac ROS Deploy runtime to stack a history"),
    (lambda t: t.replace("input_format: [base_ang_vel, joint_pos, {prev_targets: prev}]",
                         "input_format: [base_ang_vel, joint_pos]"),
     r"does not list the inputs .*missing \['prev_targets'\]"),
    (lambda t: t.replace("      device: cuda\n", "      device: cuda\n      sha256sum: " + "ab" * 32 + "\n"),
     "the bundle says abab"),  # a hash that is given is verified
], ids=["mock_backend", "no_model_path", "runtime_history", "input_format_incomplete", "wrong_given_hash"])
def test_what_the_dialect_cannot_run_is_refused_naming_it(tmp_path, edit, message):
    path = write_single(tmp_path / "walker", edit(SINGLE))
    with pytest.raises(BundleError, match=message):
        load_bundle(path)


def test_four_four_and_four_five_spellings_give_the_same_graph(tmp_path):
    old = load_bundle(write_single(tmp_path / "a"))
    text = SINGLE.replace("feedback_connections:", "feedback_flow:").replace("backend: triton", "backend: onnx")
    new = load_bundle(write_single(tmp_path / "b", text))
    assert [(e.source, e.target) for e in old.feedback] == [(e.source, e.target) for e in new.feedback]
    assert [p.key for p in old.inputs] == [p.key for p in new.inputs]


def test_pipeline_inputs_and_outputs_may_be_omitted_for_one_model(tmp_path):
    document = yaml.safe_load(SINGLE)
    del document["pipeline"]["inputs"], document["pipeline"]["outputs"]
    bundle = load_bundle(write_single(tmp_path / "w", yaml.safe_dump(document, sort_keys=False)))
    assert [p.key for p in bundle.inputs] == ["walker/base_ang_vel", "walker/joint_pos"]
    # the joint targets are also fed back: an output with a kind stays external
    assert [p.key for p in bundle.outputs] == ["walker/targets", "walker/stiffness", "walker/damping"]
    assert any("pipeline.inputs absent" in t for t in bundle.tolerances)


@pytest.mark.timeout(120)
def test_run_drives_a_robot_over_dds_from_the_config(dds_env, tmp_path):  # noqa: F811
    """`leapp-ros run` on the Isaac ROS Deploy config: joint targets follow the config's model, gains published."""
    from node_helpers import FakeRobot, RobotState, align, start_node, stop_node, wait_for
    path = write_single(tmp_path / "walker")
    robot = FakeRobot()
    state = RobotState(np.random.default_rng(21), JOINTS)
    state.install(robot)
    robot.start(rate_hz=200.0)
    targets = robot.collect("joint_commands", "std_msgs/msg/Float64MultiArray")
    kp = robot.collect("joint_commands/kp", "std_msgs/msg/Float64MultiArray", latched=True)
    node = start_node(path, dds_env, "--rate", "50", params={"safety.ramp_in_duration_s": 0.0,
                                                             "safety.ramp_in_velocity_cap": 1.0e6})
    try:
        got = wait_for(lambda: len(targets.messages) >= 20 or node.poll() is not None, timeout=40)
        running, gains = targets.snapshot(), kp.snapshot()
    finally:
        code, output = stop_node(node)
        robot.close()
    assert got and code == 0, output[-3000:]
    q = np.array([[state.position[j] for j in JOINTS]], np.float32)
    w = np.array([state.omega], np.float32)
    ticks = len(running) + 25
    expected = [e.astype(np.float64).ravel() for e in single_reference([q] * ticks, [w] * ticks)]
    # the first ticks may publish before this subscription matched: every received target must follow the model
    align([np.asarray(m.data) for m in running], expected, max_offset=25)
    np.testing.assert_allclose(np.asarray(gains[0].data), KP)
    assert "not hash-verified" in output, output[-3000:]


hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install -e .[test])")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=8),
                     st.sampled_from(["onnx", "triton", "mock", "float64", "[]", "feedback/x", "walker/prev",
                                      "joint_pos_targets", "history", "walker.onnx", "../walker.onnx"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                       max_leaves=6)


def _paths(tree, prefix=()):
    yield prefix
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _paths(value, (*prefix, index))


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_configs_load_or_are_refused_by_an_explicit_check(tmp_path_factory, data):
    """Any change to a config's tree: it loads (and binding answers with a product error at worst) or the loader
    refuses it in one line from an explicit check, never from its last-resort guard."""
    from leapp_ros.errors import LeappRosError, UncheckedBundleError
    document = yaml.safe_load(SINGLE)
    paths = [p for p in _paths(document) if p]
    path = data.draw(st.sampled_from(paths))
    target = document
    for key in path[:-1]:
        target = target[key]
    if data.draw(st.booleans()) and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = data.draw(_VALUES)
    directory = tmp_path_factory.mktemp("mutated")
    config = write_single(directory, yaml.safe_dump(document, sort_keys=False))
    try:
        bundle = load_bundle(config)
    except UncheckedBundleError as exc:
        raise AssertionError(f"{path}: reached the loader's last-resort guard: {exc}") from None
    except BundleError as exc:
        assert "\n" not in str(exc)
        return
    try:
        compile_plan(bundle)
    except LeappRosError:
        pass


@settings(max_examples=150, deadline=None, database=None)
@given(vendor=st.dictionaries(st.text(max_size=6), _VALUES, max_size=3), params=st.dictionaries(
    st.sampled_from(["held_joints.a.position", "held_joints.a.kp", "held_joints.b.kd", "held_joints.from_vendor_block",
                     "held_joints.x"]), _SCALARS, max_size=3))
def test_held_joints_from_any_vendor_block_answer_or_refuse_naming_the_joint(vendor, params):
    from leapp_ros.binding.held import held_joints
    from leapp_ros.errors import ConfigurationError
    try:
        held = held_joints(vendor, params, driven={"a_driven"})
    except ConfigurationError as exc:
        assert "\n" not in str(exc) and ("held joint" in str(exc) or "held_joints." in str(exc))
        return
    for joint in held:
        assert np.isfinite(joint.position) and joint.name != "a_driven"
        assert all(g is None or (np.isfinite(g) and g >= 0) for g in (joint.kp, joint.kd))
