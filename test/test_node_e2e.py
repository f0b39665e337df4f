"""End to end on loopback: a fake robot (this process, Cyclone DDS) and the deploy node (a subprocess) on each
transport: `leapp-ros run --transport dds` and the rclpy lifecycle node (Fast DDS, cross-vendor)."""

from __future__ import annotations

import numpy as np
import pytest
from binding_helpers import (
    FIXTURE_BUNDLES,
    JOINTS_12,
    fixture_bundle_dirs,
    write_g1_like_bundle,
    write_passthrough_bundle,
)
from node_helpers import (
    FakeRobot,
    RobotState,
    align,
    expected_outputs,
    joint_names,
    read_lines_until,
    start_node,
    stop_node,
    wait_for,
)
from transport_helpers import dds_env  # noqa: F401 - module fixture: loopback CYCLONEDDS_URI + unique domain

from leapp_ros.bundle import load_bundle

pytestmark = pytest.mark.timeout(120)
SAFETY_PASSTHROUGH = {"safety.ramp_in_duration_s": 0.0, "safety.ramp_in_velocity_cap": 1.0e6}
TARGETS, KP, KD = "joint_commands", "joint_commands/kp", "joint_commands/kd"
F64 = "std_msgs/msg/Float64MultiArray"


@pytest.fixture(scope="module")
def robot(dds_env):  # noqa: F811
    robot = FakeRobot()
    robot.start(rate_hz=200.0)
    yield robot
    robot.close()


def run_and_collect(robot: FakeRobot, bundle_path, env, count: int, *extra: str, params=None, transport="dds"):
    targets = robot.collect(TARGETS, F64)
    kp = robot.collect(KP, F64, latched=True)
    kd = robot.collect(KD, F64, latched=True)
    node = start_node(bundle_path, env, *extra, params={**SAFETY_PASSTHROUGH, **(params or {})},
                      transport=transport)
    try:
        got = wait_for(lambda: len(targets.messages) >= count or node.poll() is not None, timeout=30)
        running = targets.snapshot()  # before the shutdown command (which holds, it does not follow the policy)
    finally:
        code, output = stop_node(node)
    assert got and len(running) >= count, f"node published {len(running)} targets\n{output}"
    assert code == 0, output
    return running, kp.snapshot(), kd.snapshot(), output


@pytest.mark.parametrize("bundle_dir", fixture_bundle_dirs(), ids=lambda p: p.name)
def test_fixture_bundle_targets_equal_engine_outputs(robot, dds_env, bundle_dir, node_transport):  # noqa: F811
    check_bundle_end_to_end(robot, dds_env, bundle_dir, node_transport)


def test_g1_like_legacy_bundle_end_to_end(robot, dds_env, tmp_path, node_transport):  # noqa: F811
    check_bundle_end_to_end(robot, dds_env, write_g1_like_bundle(tmp_path), node_transport)


def check_bundle_end_to_end(robot, env, path, transport):
    bundle = load_bundle(path)
    state = RobotState(np.random.default_rng(abs(hash(bundle.name)) % 2**32), joint_names(bundle))
    state.install(robot)
    extra = () if bundle.rate_hz else ("--rate", "50")
    # Every input before the first tick: an optional command that arrives a tick late (discovery on a busy
    # machine) would feed zeros once and put a recurrent policy off the reference sequence for good.
    every_input = {f"ports.{p.name}.required": True for p in bundle.inputs if p.kind and p.kind.startswith("command/")}
    messages, kp, kd, output = run_and_collect(robot, path, env, 25, *extra, params=every_input, transport=transport)
    target = next(p for p in bundle.outputs if p.kind == "target/joint/position")
    expected = expected_outputs(bundle, state, len(messages) + 12)
    received = [np.asarray(m.data) for m in messages]
    offset = align(received, [e[target.key] for e in expected])
    assert offset <= 5, output
    for gains, kind in ((kp, "kp"), (kd, "kd")):
        port = next(p for p in bundle.outputs if p.kind == kind)
        index = [list(port.last_axis_names).index(j) for j in target.last_axis_names]
        assert gains, f"no {kind} message\n{output}"
        np.testing.assert_allclose(np.asarray(gains[0].data), expected[0][port.key][index], atol=1e-6)
    # on shutdown the safety layer publishes its damping command once: kp = 0
    np.testing.assert_array_equal(np.asarray(kp[-1].data), 0.0)


def test_passthrough_bundle_reorders_by_name_end_to_end(robot, dds_env, tmp_path, node_transport):  # noqa: F811
    path, _ = write_passthrough_bundle(tmp_path)
    bundle = load_bundle(path)
    state = RobotState(np.random.default_rng(7), JOINTS_12)
    state.install(robot)
    out_names = list(bundle.outputs[0].last_axis_names)
    assert out_names != JOINTS_12  # the output's element names are a permutation of the input's
    messages, kp, _, output = run_and_collect(robot, path, dds_env, 10, transport=node_transport)
    for message in messages:
        np.testing.assert_allclose(message.data, [state.position[j] for j in out_names], atol=1e-6)
    np.testing.assert_allclose(kp[0].data, [10.0 + i for i in range(12)])
    # command_joints reorders the Float64MultiArray (ros2_control forward_command_controller joint order)
    order = sorted(JOINTS_12)
    messages, kp, _, output = run_and_collect(robot, path, dds_env, 10, params={"command_joints": order},
                                              transport=node_transport)
    for message in messages:
        np.testing.assert_allclose(message.data, [state.position[j] for j in order], atol=1e-6)
    np.testing.assert_allclose(kp[0].data, [10.0 + out_names.index(j) for j in order])


def test_bundle_without_rate_is_refused_without_rate(dds_env, node_transport):  # noqa: F811
    if not FIXTURE_BUNDLES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURE_BUNDLES}")
    node = start_node(FIXTURE_BUNDLES / "franka_fr3_reach", dds_env, transport=node_transport)
    if node_transport == "dds":  # leapp-ros run exits
        output, _ = node.communicate(timeout=60)
        assert node.returncode == 2 and "states no policy rate" in output and "--rate" in output, output
        return
    # the lifecycle node's autostart configure fails: it says why once and stays unconfigured until stopped
    lines = read_lines_until(node, lambda line: "configure failed" in line, timeout=60)
    code, output = stop_node(node)
    output = "".join(lines) + output
    assert "states no policy rate" in output and "rate_hz" in output and code == 0, output
    assert output.count("configure failed") == 1, output
