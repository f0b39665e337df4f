"""Joint-name mapping between robot, bundle and MJCF: every mismatch is an error naming the joint."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="mujoco is not installed (pip install mujoco)")

from sim_helpers import BARE_JOINTS_XML, FLOATING_IMU_XML, FR3_JOINTS, SERVO_ARM_XML, model_from_xml, require_fr3  # noqa: E402

from leapp_ros.errors import ConfigurationError  # noqa: E402
from leapp_ros.sim import JointMap, SimRobot, SimRobotConfig  # noqa: E402


@pytest.mark.parametrize("robot_names, mapping, expected", [
    ((), None, ("hinge", "slide")),
    (("slide", "hinge"), None, ("slide", "hinge")),
    (("yaw", "extend"), {"yaw": "hinge", "extend": "slide"}, ("hinge", "slide")),
    (("yaw",), {"yaw": "hinge"}, ("hinge",)),
])
def test_joint_map_resolves_names_in_robot_order(robot_names, mapping, expected):
    model = model_from_xml(BARE_JOINTS_XML)
    jm = JointMap.build(model, robot_names, mapping)
    assert jm.mjcf_names == expected
    assert list(jm.qpos_adr) == [model.jnt_qposadr[model.joint(n).id] for n in expected]


@pytest.mark.parametrize("xml, robot_names, mapping, culprit", [
    (BARE_JOINTS_XML, ("hinge", "elbow"), None, "'elbow'"),
    (BARE_JOINTS_XML, ("yaw",), {"yaw": "no_such_joint"}, "'no_such_joint' (mapped from robot joint 'yaw')"),
    (BARE_JOINTS_XML, ("hinge",), {"slide": "slide"}, "robot joint 'slide'"),
    (BARE_JOINTS_XML, ("a", "b"), {"a": "hinge", "b": "hinge"}, "'a' and 'b' both map to MJCF joint 'hinge'"),
    (BARE_JOINTS_XML, ("hinge", "hinge"), None, "'hinge' is listed twice"),
    (FLOATING_IMU_XML, ("root",), None, "joint 'root'"),
])
def test_joint_map_mismatch_is_an_error_naming_the_joint(xml, robot_names, mapping, culprit):
    with pytest.raises(ConfigurationError) as err:
        JointMap.build(model_from_xml(xml), robot_names, mapping)
    assert culprit in str(err.value)


@pytest.mark.parametrize("names, method, culprit", [
    (["fr3_joint1", "fr3_joint9"], "indices", "names joint 'fr3_joint9'"),
    (["fr3_joint2", "fr3_joint2"], "indices", "lists joint 'fr3_joint2' twice"),
    (FR3_JOINTS[:6], "require_all", "does not name robot joint 'fr3_joint7'"),
])
def test_bundle_joint_names_are_checked_against_the_robot(names, method, culprit):
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=100.0, kd=10.0))
    with pytest.raises(ConfigurationError) as err:
        getattr(robot.joints, method)(names, "bundle output 'joint_targets'")
    assert "bundle output 'joint_targets'" in str(err.value) and culprit in str(err.value)


def test_bundle_order_maps_to_robot_indices():
    robot = SimRobot(require_fr3(), SimRobotConfig(joint_names=list(reversed(FR3_JOINTS)), kp=1.0))
    idx = robot.joints.require_all(FR3_JOINTS, "bundle input 'joint_pos'")
    assert list(idx) == [6, 5, 4, 3, 2, 1, 0]
    assert list(robot.joint_positions()[idx]) == list(robot.data.qpos[:7])


@pytest.mark.parametrize("value, culprit", [
    ({"fr3_joint1": 1.0}, "no value for joint 'fr3_joint2'"),
    ({**{j: 1.0 for j in FR3_JOINTS}, "fr3_finger": 2.0}, "names joint 'fr3_finger'"),
    ([1.0, 2.0], "has 2 values, expected 7"),
    ([1.0] * 6 + [float("nan")], "for joint 'fr3_joint7' is not finite"),
])
def test_per_joint_values_are_checked(value, culprit):
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=1.0))
    with pytest.raises(ConfigurationError) as err:
        robot.set_gains(kp=value)
    assert culprit in str(err.value)


def test_servo_actuator_on_a_driven_joint_is_refused():
    with pytest.raises(ConfigurationError) as err:
        SimRobot(model_from_xml(SERVO_ARM_XML), SimRobotConfig(kp=1.0))
    assert "joint 'j2'" in str(err.value) and "actuator 'servo2'" in str(err.value)
    # not driving that joint is fine
    robot = SimRobot(model_from_xml(SERVO_ARM_XML), SimRobotConfig(joint_names=["j1"], kp=1.0))
    assert robot.joint_names == ("j1",)


@pytest.mark.parametrize("what, kwargs, culprit", [
    ("keyframe", {"keyframe": "nope"}, "keyframe 'nope'"),
    ("imu site", {"imu_site": "nope"}, "site 'nope'"),
    ("base body", {"base_body": "nope"}, "body 'nope'"),
    ("effort limit", {"effort_limits": 0.0}, "effort limit of joint 'fr3_joint1'"),
    ("gain sign", {"kp": -1.0}, "gains must be >= 0"),
    ("delay", {"delay_steps": -1}, "delay"),
    ("dt", {"physics_dt": 0.0}, "physics_dt"),
])
def test_bad_robot_configuration_is_an_error(what, kwargs, culprit):
    with pytest.raises(ConfigurationError) as err:
        SimRobot(require_fr3(), SimRobotConfig(**kwargs))
    assert culprit in str(err.value), what


def test_missing_model_file_names_the_file(tmp_path):
    with pytest.raises(ConfigurationError) as err:
        SimRobot(tmp_path / "robot.xml")
    assert "robot.xml" in str(err.value)
    bad = tmp_path / "broken.xml"
    bad.write_text("<mujoco><worldbody><body><joint name='j' type='unknown'/></body></worldbody></mujoco>")
    with pytest.raises(ConfigurationError) as err:
        SimRobot(bad)
    assert "broken.xml" in str(err.value)


def test_franka_effort_limits_and_torque_channels_come_from_the_mjcf():
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=1.0))
    assert robot.joint_names == tuple(FR3_JOINTS)
    np.testing.assert_array_equal(robot.effort_limits, [87.0] * 4 + [12.0] * 3)
    assert list(robot._actuator_ids) == list(range(7))
