"""The sim node over real DDS on loopback: state topics out, the three command types and kp/kd in, reset."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="mujoco is not installed (pip install mujoco)")
from sim_helpers import REACH_ARM_XML, Latest, SimProcess, wait_for  # noqa: E402
from transport_helpers import dds_env  # noqa: E402,F401

pytestmark = pytest.mark.timeout(180)

SIM_YAML = REACH_ARM_XML.parent / "sim.yaml"
JOINTS = ["shoulder_yaw", "shoulder_pitch", "elbow_pitch"]
DEFAULT_POSE = np.array([0.0, -0.5, 1.2])  # keyframe "default"


@pytest.fixture(scope="module")
def peer(dds_env: dict[str, str]) -> Iterator[Any]:
    """This process's DDS node: plays the deploy node and a monitoring tool."""
    from leapp_ros.transport.dds import DdsTransport

    transport = DdsTransport("sim_test_peer", "/")
    yield transport
    transport.shutdown()


def _subscribe_state(peer: Any, ns: str) -> Latest:
    from leapp_ros.transport.base import DEFAULT, SENSOR_DATA

    latest = Latest()
    peer.create_subscription(f"{ns}/joint_states", "sensor_msgs/msg/JointState", SENSOR_DATA,
                             latest.callback("js"))
    peer.create_subscription(f"{ns}/imu/data", "sensor_msgs/msg/Imu", SENSOR_DATA, latest.callback("imu"))
    peer.create_subscription(f"{ns}/odom", "nav_msgs/msg/Odometry", SENSOR_DATA, latest.callback("odom"))
    peer.create_subscription(f"{ns}/sim/ee_pose", "geometry_msgs/msg/PoseStamped", DEFAULT, latest.callback("ee"))
    peer.create_subscription("/clock", "rosgraph_msgs/msg/Clock", DEFAULT, latest.callback("clock", keep=True))
    return latest


def _positions(latest: Latest) -> np.ndarray:
    msg = latest.get("js")
    return np.asarray(msg.position)[[list(msg.name).index(j) for j in JOINTS]]


def _command(peer: Any, type_name: str, names: list[str], values: list[float]) -> Any:
    new = peer.new_message
    if type_name == "std_msgs/msg/Float64MultiArray":
        return new(type_name, data=np.asarray(values, np.float64))
    if type_name == "trajectory_msgs/msg/JointTrajectory":
        point = new("trajectory_msgs/msg/JointTrajectoryPoint", positions=np.asarray(values, np.float64))
        return new(type_name, joint_names=names, points=[point])
    return new(type_name, name=names, position=np.asarray(values, np.float64))


def _stream(publisher: Any, msg: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        publisher.publish(msg)
        time.sleep(0.02)


# (case, message type, joint names in the message, target values)
CASES = [
    ("array", "std_msgs/msg/Float64MultiArray", JOINTS, [0.6, -0.2, 0.9]),
    ("trajectory_reordered", "trajectory_msgs/msg/JointTrajectory", ["elbow_pitch", "shoulder_yaw", "shoulder_pitch"],
     [0.9, 0.6, -0.2]),
    ("joint_state_subset", "sensor_msgs/msg/JointState", ["shoulder_yaw"], [-0.7]),
]


@pytest.mark.parametrize("case, type_name, names, values", CASES, ids=[c[0] for c in CASES])
def test_sim_node_drives_joints_from_each_command_type(peer, case, type_name, names, values):
    from leapp_ros.transport.base import DEFAULT, LATCHED

    ns = f"/sim_{case}"
    latest = _subscribe_state(peer, ns)
    sim = SimProcess(SIM_YAML, "--namespace", ns, "--duration", "30", "--targets-type", type_name,
                     "--log-level", "warning")
    try:
        assert wait_for(lambda: latest.get("js") is not None and latest.get("ee") is not None, 20.0), sim.stop(1)[1]
        np.testing.assert_allclose(_positions(latest), DEFAULT_POSE, atol=1e-3)  # holds the reset pose
        publisher = peer.create_publisher(f"{ns}/joint_commands", type_name, DEFAULT)
        kp_pub = peer.create_publisher(f"{ns}/joint_commands/kp", "std_msgs/msg/Float64MultiArray", LATCHED)
        kp_pub.publish(peer.new_message("std_msgs/msg/Float64MultiArray", data=np.array([80.0, 80.0, 40.0])))
        # a malformed message first: must be dropped, not applied
        bad = _command(peer, type_name, names + ["no_such_joint"], values + [3.0]) if type_name != \
            "std_msgs/msg/Float64MultiArray" else _command(peer, type_name, [], values + [3.0])
        _stream(publisher, bad, 0.5)
        np.testing.assert_allclose(_positions(latest), DEFAULT_POSE, atol=1e-3)
        _stream(publisher, _command(peer, type_name, names, values), 2.5)
        expected = DEFAULT_POSE.copy()
        for name, value in zip(names, values):
            expected[JOINTS.index(name)] = value
        np.testing.assert_allclose(_positions(latest), expected, atol=5e-3)
        publisher.close()
        kp_pub.close()
    finally:
        rc, out = sim.stop()
    assert rc == 0, out
    assert "dropped a message" in out  # the malformed command was reported
    js, imu, odom, ee = (latest.get(k) for k in ("js", "imu", "odom", "ee"))
    assert list(js.name) == JOINTS and len(js.effort) == 3
    np.testing.assert_allclose([imu.linear_acceleration.x, imu.linear_acceleration.y, imu.linear_acceleration.z],
                               [0.0, 0.0, 9.81], atol=1e-6)  # fixed base, IMU site level
    assert imu.header.frame_id == "imu" and odom.child_frame_id == "base_link" and ee.header.frame_id == "base_link"
    stamps = [c.clock.sec + 1e-9 * c.clock.nanosec for c in latest.history["clock"]]
    assert stamps[-1] > 2.0 and all(b >= a for a, b in zip(stamps, stamps[1:]))


def test_sim_node_reset_topic_restores_the_keyframe(peer):
    from leapp_ros.transport.base import DEFAULT

    ns = "/sim_reset"
    latest = _subscribe_state(peer, ns)
    sim = SimProcess(SIM_YAML, "--namespace", ns, "--duration", "30", "--log-level", "warning")
    try:
        assert wait_for(lambda: latest.get("js") is not None, 20.0), sim.stop(1)[1]
        publisher = peer.create_publisher(f"{ns}/joint_commands", "std_msgs/msg/Float64MultiArray", DEFAULT)
        _stream(publisher, _command(peer, "std_msgs/msg/Float64MultiArray", JOINTS, [1.0, 0.3, 0.5]), 1.5)
        assert not np.allclose(_positions(latest), DEFAULT_POSE, atol=0.1)
        reset = peer.create_publisher(f"{ns}/sim/reset", "std_msgs/msg/Empty", DEFAULT)
        time.sleep(0.3)  # discovery of the new writer
        reset.publish(peer.new_message("std_msgs/msg/Empty"))
        assert wait_for(lambda: np.allclose(_positions(latest), DEFAULT_POSE, atol=1e-6), 3.0)
        reset.close()
        publisher.close()
    finally:
        rc, out = sim.stop()
    assert rc == 0, out
