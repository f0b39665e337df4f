"""Deploy node: parameters, lifecycle, deadline loop (units) and activation gating, reset, e-stop,
diagnostics and output types end to end on loopback, with the node on each transport (dds, rclpy)."""

from __future__ import annotations

import os
import struct
import time

import numpy as np
import pytest
from binding_helpers import FIXTURE_BUNDLES, JOINTS_12, write_passthrough_bundle
from node_helpers import FakeRobot, RobotState, align, expected_outputs, joint_names, start_node, stop_node, wait_for
from transport_helpers import dds_env  # noqa: F401 - module fixture: loopback CYCLONEDDS_URI + unique domain

from leapp_ros.errors import ConfigurationError
from leapp_ros.node import parameters as P
from leapp_ros.node.lifecycle import Lifecycle, State
from leapp_ros.node.timing import DeadlineLoop

pytestmark = pytest.mark.timeout(120)
SAFETY_PASSTHROUGH = {"safety.ramp_in_duration_s": 0.0, "safety.ramp_in_velocity_cap": 1.0e6}


def test_params_file_flattening_and_overrides(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("leapp_deploy:\n  ros__parameters:\n    rate_hz: 100.0\n    imu: {topic: /base/imu}\n"
                    "    ports:\n      joint_pos: {topic: js}\n    safety: {ramp_in_duration_s: 1.0}\n"
                    "/**:\n  ros__parameters:\n    base_frame: trunk\n")
    params = P.load_params_file(path)
    assert params == {"base_frame": "trunk", "rate_hz": 100.0, "imu.topic": "/base/imu",
                      "ports.joint_pos.topic": "js", "safety.ramp_in_duration_s": 1.0}
    resolved = P.resolve(params)
    assert resolved["cmd_vel.topic"] == "cmd_vel" and resolved["imu.topic"] == "/base/imu"
    assert P.parse_assignment("command_joints:=[a, b]") == ("command_joints", ["a", "b"])
    assert P.parse_assignment("rate_hz:=500") == ("rate_hz", 500)
    with pytest.raises(ConfigurationError, match="unknown parameters \\['rate'\\]"):
        P.resolve({"rate": 5})
    with pytest.raises(ConfigurationError, match="name:=value"):
        P.parse_assignment("rate_hz=5")


@pytest.mark.parametrize("steps, final, error", [
    (["configure", "activate", "deactivate", "cleanup"], State.UNCONFIGURED, None),
    (["activate"], None, "cannot activate from state 'unconfigured'"),
    (["configure", "configure"], None, "cannot configure from state 'inactive'"),
    (["configure", "activate", "cleanup"], None, "cannot cleanup from state 'active'"),
])
def test_lifecycle_transitions(steps, final, error):
    lifecycle = Lifecycle()
    try:
        for step in steps:
            lifecycle.begin(step)
            lifecycle.finish(step)
    except ConfigurationError as exc:
        assert error and error in str(exc)
        return
    assert error is None and lifecycle.state is final


def test_deadline_loop_counts_overruns_and_realigns():
    calls: list[tuple[float, bool]] = []
    slow = {3, 4}

    def tick(missed: bool) -> None:
        calls.append((time.monotonic(), missed))
        if len(calls) in slow:
            time.sleep(0.025)  # 2.5 periods

    loop = DeadlineLoop(0.01, tick)
    loop.start()
    wait_for(lambda: len(calls) >= 15, timeout=5)
    loop.stop()
    assert loop.misses >= 2 and loop.ticks == len(calls)
    assert any(missed for _, missed in calls[3:7])
    # realigned, no catch-up burst: the deadlines the stalls passed are skipped (counted), not run, so ticks plus
    # skipped deadlines never exceed the deadlines that passed. Holds however late a busy machine wakes the loop.
    times = [t for t, _ in calls]
    assert loop.skipped >= 2 and len(calls) - 1 + loop.skipped <= (times[-1] - times[0]) / 0.01 + 2


@pytest.fixture(scope="module")
def robot(dds_env):  # noqa: F811
    robot = FakeRobot("lifecycle_robot")
    robot.start(rate_hz=200.0)
    yield robot
    robot.close()


def _install_passthrough_inputs(robot: FakeRobot, position: dict[str, float]) -> None:
    names = list(reversed(JOINTS_12))
    robot.publish_periodically("joint_states", "sensor_msgs/msg/JointState", lambda: robot.new(
        "sensor_msgs/msg/JointState", name=names, position=[position[n] for n in names],
        velocity=[0.0] * len(names)))
    robot.publish_periodically("imu/data", "sensor_msgs/msg/Imu", lambda: robot.new("sensor_msgs/msg/Imu"))


def _effective_cpu_latency_us() -> int:
    with open("/dev/cpu_dma_latency", "rb") as device:  # the kernel's effective PM QoS request
        return int(struct.unpack("i", device.read(4))[0])


def _latched_urdf(robot: FakeRobot):
    """What robot_state_publisher does: the URDF on a transient-local robot_description topic."""
    from leapp_ros.transport import LATCHED
    joints = "".join(f'<joint name="{j}" type="revolute"><parent link="base"/><child link="l{i}"/>'
                     f'<limit lower="-3" upper="3" velocity="20" effort="80"/></joint>'
                     for i, j in enumerate(JOINTS_12))
    links = "".join(f'<link name="l{i}"/>' for i in range(len(JOINTS_12)))
    publisher = robot.transport.create_publisher("robot_description", "std_msgs/msg/String", LATCHED)
    urdf = f'<robot name="r"><link name="base"/>{links}{joints}</robot>'
    publisher.publish(robot.new("std_msgs/msg/String", data=urdf))
    return publisher  # close it after the test: the robot fixture is shared and later nodes must not see these limits


def test_activation_waits_for_inputs_then_estop_damps(robot, dds_env, tmp_path, node_transport):  # noqa: F811
    path, _ = write_passthrough_bundle(tmp_path)
    robot.clear_periodic()  # no inputs until the test installs them (an earlier test may have left some)
    description = _latched_urdf(robot)  # joint limits from the latched topic, as robot_state_publisher gives them
    state = robot.collect("leapp_deploy/state", "std_msgs/msg/String", latched=True)
    targets = robot.collect("joint_commands", "std_msgs/msg/Float64MultiArray")
    kp = robot.collect("joint_commands/kp", "std_msgs/msg/Float64MultiArray", latched=True)
    diagnostics = robot.collect("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray")
    latency_writable = os.access("/dev/cpu_dma_latency", os.W_OK)
    latency_before = _effective_cpu_latency_us() if latency_writable else None
    node = start_node(path, dds_env, params={**SAFETY_PASSTHROUGH, "diagnostics_period_s": 0.2,
                                             "realtime.cpu_dma_latency_us": 0}, transport=node_transport)
    try:
        assert wait_for(lambda: any(m.data == "inactive" for m in state.snapshot()), timeout=20)
        time.sleep(0.5)
        assert not targets.snapshot()  # no joint states yet: configured, not active, nothing published
        position = {j: 0.1 * i for i, j in enumerate(JOINTS_12)}
        _install_passthrough_inputs(robot, position)
        assert wait_for(lambda: len(targets.snapshot()) >= 10, timeout=20)
        assert state.snapshot()[-1].data == "active"
        assert wait_for(lambda: len(diagnostics.snapshot()) >= 2, timeout=5)
        values = {kv.key: kv.value for kv in diagnostics.snapshot()[-1].status[0].values}
        for key in ("achieved rate (Hz)", "tick latency p50 (ms)", "tick latency p99 (ms)", "tick latency max (ms)",
                    "tick deadline misses", "backend", "safety state", "lifecycle state"):
            assert key in values, sorted(values)
        assert values["safety state"] == "ACTIVE" and values["lifecycle state"] == "active"
        assert "last error" not in values, values["last error"]  # the activation that waited for inputs succeeded
        assert any(k.startswith("input robot_joint_pos (joint_states) age") for k in values)
        # the default tick-thread timer slack, and the CPU wake-up latency request held while active (or refused
        # with the reason where the device is not writable)
        assert "tick thread timer slack 1000 ns" in values["realtime"], values["realtime"]
        assert "interpreter switch interval 100 us" in values["realtime"], values["realtime"]
        if latency_writable:
            assert "CPU wake-up latency held at 0 us" in values["realtime"] and _effective_cpu_latency_us() == 0
        else:
            assert "REFUSED CPU wake-up latency held at 0 us" in values["realtime"], values["realtime"]
        p50, p99 = (float(v) for v in values["tick wake-up latency p50 / p99 (us)"].split(" / "))
        assert 0 <= p50 <= p99
        assert "joint limits from robot_description" in values.get("configure note 1", ""), values
        # e-stop: the safety layer takes over the actuators (damping: kp 0) and stays latched
        robot.publish("estop", "std_msgs/msg/Bool", robot.new("std_msgs/msg/Bool", data=True))
        assert wait_for(lambda: kp.snapshot() and np.all(np.asarray(kp.snapshot()[-1].data) == 0.0), timeout=5)
        assert wait_for(lambda: any({kv.key: kv.value for kv in d.status[0].values}.get("safety state") == "ESTOP"
                                    for d in diagnostics.snapshot()[-3:]), timeout=5)
    finally:
        code, output = stop_node(node)
        description.close()
    assert code == 0, output
    if latency_writable:
        assert _effective_cpu_latency_us() == latency_before  # the request ended with the node
    if node_transport == "rclpy":  # autostart says once, at INFO, what it waits for; product logs go through ROS
        assert output.count("autostart: waiting for the required inputs") == 1, output
        assert "activate failed" not in output and "[leapp_deploy.node]" in output, output


@pytest.mark.skipif(not FIXTURE_BUNDLES.is_dir(), reason=f"shared fixtures not found at {FIXTURE_BUNDLES}")
def test_reset_topic_restarts_the_recurrent_state(robot, dds_env, node_transport):  # noqa: F811
    from leapp_ros.bundle import load_bundle

    bundle = load_bundle(FIXTURE_BUNDLES / "gru_recurrent")
    state = RobotState(np.random.default_rng(3), joint_names(bundle))
    state.install(robot)
    targets = robot.collect("joint_commands", "std_msgs/msg/Float64MultiArray")
    node = start_node(bundle.yaml_path, dds_env, params=SAFETY_PASSTHROUGH, transport=node_transport)
    try:
        assert wait_for(lambda: len(targets.snapshot()) >= 15, timeout=30)
        before = len(targets.snapshot())
        robot.publish("leapp_deploy/reset", "std_msgs/msg/Empty", robot.new("std_msgs/msg/Empty"))
        assert wait_for(lambda: len(targets.snapshot()) >= before + 20, timeout=10)
        received = [np.asarray(m.data) for m in targets.snapshot()]
    finally:
        code, output = stop_node(node)
    expected = [e["Isaac-Velocity-Flat-Anymal-D/joint_pos"] for e in expected_outputs(bundle, state, 80)]
    first = align(received[:10], expected)
    # after the reset the sequence starts again from the first output (within the ticks around the request)
    restarts = [i for i in range(before - 2, len(received) - 5)
                if np.allclose(received[i], expected[0], atol=1e-6) and i > first + 5]
    assert restarts, output
    i = restarts[0]
    np.testing.assert_allclose(received[i:i + 5], expected[:5], atol=1e-6)
    assert code == 0


def test_joint_trajectory_output_event_driven(robot, dds_env, tmp_path, node_transport):  # noqa: F811
    path, _ = write_passthrough_bundle(tmp_path)
    position = {j: -0.05 * i for i, j in enumerate(JOINTS_12)}
    _install_passthrough_inputs(robot, position)
    trajectories = robot.collect("arm/trajectory", "trajectory_msgs/msg/JointTrajectory")
    node = start_node(path, dds_env, params={**SAFETY_PASSTHROUGH, "tick_on": "joint_states",
                                             "targets.topic": "arm/trajectory",
                                             "targets.type": "trajectory_msgs/msg/JointTrajectory"},
                      transport=node_transport)
    try:
        started = time.monotonic()
        assert wait_for(lambda: len(trajectories.snapshot()) >= 100, timeout=30)
        elapsed = time.monotonic() - started
    finally:
        code, output = stop_node(node)
    from leapp_ros.bundle import load_bundle
    message = trajectories.snapshot()[5]
    assert list(message.joint_names) == list(load_bundle(path).outputs[0].last_axis_names)
    np.testing.assert_allclose(message.points[0].positions, [position[j] for j in message.joint_names], atol=1e-6)
    assert elapsed < 25 and code == 0, output  # 200 Hz joint states drive ticks faster than the bundle's 50 Hz


@pytest.mark.transport("dds")  # rclpy: the lifecycle services instead (test_node_rclpy.py)
def test_no_activate_then_transition_topic(robot, dds_env, tmp_path):  # noqa: F811
    path, _ = write_passthrough_bundle(tmp_path)
    _install_passthrough_inputs(robot, {j: 0.2 for j in JOINTS_12})
    state = robot.collect("leapp_deploy/state", "std_msgs/msg/String", latched=True)
    targets = robot.collect("joint_commands", "std_msgs/msg/Float64MultiArray")
    node = start_node(path, dds_env, "--no-activate", params=SAFETY_PASSTHROUGH)
    try:
        assert wait_for(lambda: any(m.data == "inactive" for m in state.snapshot()), timeout=20)
        time.sleep(0.3)
        assert not targets.snapshot()  # inputs are there, but nobody asked to activate
        robot.publish("leapp_deploy/transition", "std_msgs/msg/String", robot.new("std_msgs/msg/String",
                                                                                   data="activate"))
        assert wait_for(lambda: len(targets.snapshot()) >= 5, timeout=10)
        robot.publish("leapp_deploy/transition", "std_msgs/msg/String", robot.new("std_msgs/msg/String",
                                                                                   data="deactivate"))
        assert wait_for(lambda: state.snapshot()[-1].data == "inactive", timeout=10)
        count = len(targets.snapshot())
        time.sleep(0.3)
        assert len(targets.snapshot()) == count  # inactive: nothing published
    finally:
        code, output = stop_node(node)
    assert code == 0, output
