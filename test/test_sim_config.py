"""Sim YAML, node settings and command decoding: ROS-free, every bad input named."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace as Msg

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="mujoco is not installed (pip install mujoco)")

from sim_helpers import REACH_ARM_XML  # noqa: E402

from leapp_ros.errors import ConfigurationError  # noqa: E402
from leapp_ros.sim import SimRobot  # noqa: E402
from leapp_ros.sim.commands import CommandDecoder, CommandRejected  # noqa: E402
from leapp_ros.sim.config_file import load_sim_file  # noqa: E402
from leapp_ros.sim.settings import NODE_KEYS, SimNodeSettings  # noqa: E402

JOINTS = ["shoulder_yaw", "shoulder_pitch", "elbow_pitch"]


def test_demo_sim_yaml_loads_and_builds_the_robot():
    sim = load_sim_file(REACH_ARM_XML.parent / "sim.yaml", NODE_KEYS)
    assert sim.model == REACH_ARM_XML
    robot = SimRobot(sim.model, sim.robot)
    assert robot.joint_names == tuple(JOINTS) and robot.physics_dt == 0.005
    np.testing.assert_allclose(robot.joint_positions(), [0.0, -0.5, 1.2])
    settings = SimNodeSettings.from_mapping(sim.node)
    assert settings.ee_site == "ee" and settings.targets_topic == "joint_commands"


@pytest.mark.parametrize("text, culprit", [
    ("robot: {model: arm.xml, kp: 1.0, stiffness: 2.0}", "unknown key 'robot.stiffness'"),
    ("robot: {kp: 1.0}", "robot.model"),
    ("robots: {}", "needs a 'robot:' mapping"),
    ("robot: {model: arm.xml}\nextra: 1", "unknown top-level key 'extra'"),
    ("robot: {model: arm.xml}\nnode: {rate: 3}", "unknown key 'node.rate'"),
    ("robot: [", "not valid YAML"),
])
def test_bad_sim_yaml_names_the_problem(tmp_path, text, culprit):
    path = tmp_path / "sim.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as err:
        load_sim_file(path, NODE_KEYS)
    assert culprit in str(err.value) and "sim.yaml" in str(err.value)


@pytest.mark.parametrize("values, culprit", [
    ({"targets_type": "std_msgs/msg/String"}, "targets_type"),
    ({"gains_qos": "fast"}, "gains_qos"),
    ({"state_rate_hz": 0}, "state_rate_hz"),
    ({"real_time_factor": -1}, "real_time_factor"),
    ({"publish_clock": "yes"}, "'publish_clock' has the wrong type"),
    ({"command_joints": "shoulder_yaw"}, "'command_joints' has the wrong type"),
    ({"joint_states_topic": ""}, "joint_states_topic"),
    ({"state_hz": 3}, "unknown sim node setting 'state_hz'"),
])
def test_bad_node_settings_are_refused(values, culprit):
    with pytest.raises(ConfigurationError) as err:
        SimNodeSettings.from_mapping(values)
    assert culprit in str(err.value)


@pytest.fixture(scope="module")
def robot() -> SimRobot:
    return SimRobot(REACH_ARM_XML)


def _trajectory(names, positions=(), velocities=(), points=1):
    point = Msg(positions=list(positions), velocities=list(velocities), effort=[])
    return Msg(joint_names=list(names), points=[point] * points)


@pytest.mark.parametrize("type_name, msg, idx, position, velocity", [
    ("std_msgs/msg/Float64MultiArray", Msg(data=[1.0, 2.0, 3.0]), [0, 1, 2], [1, 2, 3], None),
    ("trajectory_msgs/msg/JointTrajectory", _trajectory(["elbow_pitch", "shoulder_yaw"], [3.0, 1.0]), [2, 0],
     [3, 1], None),
    ("trajectory_msgs/msg/JointTrajectory", _trajectory(["shoulder_pitch"], [], [0.5]), [1], None, [0.5]),
    ("sensor_msgs/msg/JointState", Msg(name=["shoulder_pitch"], position=[0.2], velocity=[], effort=[]), [1],
     [0.2], None),
])
def test_commands_decode_by_name(robot, type_name, msg, idx, position, velocity):
    cmd = CommandDecoder(type_name, robot.joints).decode(msg)
    assert list(cmd.indices) == idx
    assert (cmd.position is None) == (position is None) and (cmd.velocity is None) == (velocity is None)
    if position is not None:
        np.testing.assert_array_equal(cmd.position, position)
    if velocity is not None:
        np.testing.assert_array_equal(cmd.velocity, velocity)


def test_float64_multi_array_follows_command_joints(robot):
    decoder = CommandDecoder("std_msgs/msg/Float64MultiArray", robot.joints,
                             ["elbow_pitch", "shoulder_pitch", "shoulder_yaw"])
    assert list(decoder.decode(Msg(data=[1.0, 2.0, 3.0])).indices) == [2, 1, 0]
    np.testing.assert_array_equal(decoder.decode_gains(Msg(data=[10.0, 20.0, 30.0]), "kp"), [10, 20, 30])


@pytest.mark.parametrize("type_name, msg, culprit", [
    ("std_msgs/msg/Float64MultiArray", Msg(data=[1.0, 2.0]), "data has 2 values for 3 joints"),
    ("std_msgs/msg/Float64MultiArray", Msg(data=[1.0, float("nan"), 2.0]), "non-finite"),
    ("trajectory_msgs/msg/JointTrajectory", _trajectory(["wrist"], [1.0]), "names joint 'wrist'"),
    ("trajectory_msgs/msg/JointTrajectory", _trajectory(["shoulder_yaw"], [1.0], points=2), "exactly one"),
    ("trajectory_msgs/msg/JointTrajectory", _trajectory(["shoulder_yaw", "shoulder_yaw"], [1.0, 2.0]), "twice"),
    ("trajectory_msgs/msg/JointTrajectory", _trajectory(["shoulder_yaw"]), "no position, velocity or effort"),
    ("sensor_msgs/msg/JointState", Msg(name=["shoulder_yaw"], position=[1.0, 2.0], velocity=[], effort=[]),
     "position has 2 values for 1 joints"),
    ("sensor_msgs/msg/JointState", Msg(name=[], position=[], velocity=[], effort=[]), "names no joints"),
])
def test_bad_commands_are_rejected(robot, type_name, msg, culprit):
    with pytest.raises(CommandRejected) as err:
        CommandDecoder(type_name, robot.joints).decode(msg)
    assert culprit in str(err.value)


@pytest.mark.parametrize("data, culprit", [([1.0, 2.0], "has 2 values"), ([1.0, -2.0, 3.0], "negative gain")])
def test_bad_gains_are_rejected(robot, data, culprit):
    with pytest.raises(CommandRejected, match=culprit):
        CommandDecoder("std_msgs/msg/Float64MultiArray", robot.joints).decode_gains(Msg(data=data), "kd")


def test_unknown_command_joint_is_a_configuration_error(robot):
    with pytest.raises(ConfigurationError, match="names joint 'wrist'"):
        CommandDecoder("std_msgs/msg/Float64MultiArray", robot.joints, ["shoulder_yaw", "wrist"])


def test_franka_example_deploy_parameters_hold_the_sim_models_joint_ranges():
    """docs/sim2sim.md runs the FR3 bundle with examples/franka_fr3/deploy.yaml: its limits are the MJCF ranges."""
    pytest.importorskip("mujoco", reason="mujoco is not installed (pip install mujoco)")
    from leapp_ros.demo.limits import mjcf_joint_limit_params
    from leapp_ros.node import parameters as P

    example = Path(__file__).resolve().parents[1] / "examples" / "franka_fr3"
    params = P.load_params_file(str(example / "deploy.yaml"), "leapp_deploy")
    limits = {k: v for k, v in params.items() if k.startswith("joint_limits.")}
    assert limits == mjcf_joint_limit_params(example / "sim.yaml") and params["base_frame"] == "base_link"
