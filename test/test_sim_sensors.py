"""IMU and odometry read-out of the sim bridge against MuJoCo's own sensors and frame math."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="mujoco is not installed (pip install mujoco)")

from sim_helpers import FLOATING_IMU_XML, model_from_xml, require_fr3  # noqa: E402

from leapp_ros.errors import ConfigurationError  # noqa: E402
from leapp_ros.sim import SimRobot, SimRobotConfig, quat_order, reorder_quat  # noqa: E402


def _floating_robot(**kwargs) -> SimRobot:
    robot = SimRobot(model_from_xml(FLOATING_IMU_XML),
                     SimRobotConfig(joint_names=["hip"], kp=20.0, kd=1.0, imu_site="imu", **kwargs))
    robot.data.qvel[:6] = [0.3, -0.2, 0.5, 1.0, -0.7, 2.0]  # free joint: linear (world), angular (body)
    robot.set_position_targets(np.array([0.4]))
    return robot


def _sensor(robot: SimRobot, name: str) -> np.ndarray:
    robot._sync()
    s = robot.model.sensor(name)
    return robot.data.sensordata[s.adr[0]:s.adr[0] + s.dim[0]].copy()


@pytest.mark.parametrize("steps", [0, 1, 37, 250])
def test_imu_matches_mujoco_sensors(steps):
    robot = _floating_robot()
    robot.step_policy(steps)
    imu = robot.imu(quat_order="wxyz")
    np.testing.assert_allclose(imu.angular_velocity, _sensor(robot, "gyro"), atol=1e-9)
    np.testing.assert_allclose(imu.linear_acceleration, _sensor(robot, "acc"), atol=1e-6)
    q_ref = _sensor(robot, "quat")
    assert min(np.abs(imu.orientation - q_ref).max(), np.abs(imu.orientation + q_ref).max()) < 1e-9


def test_imu_at_rest_reads_gravity_upwards():
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=400.0, kd=40.0, gravity_compensation=True,
                                                  keyframe="isaac_default", imu_site="fr3_link8"))
    robot.step_policy(100)  # holding still: the last applied torque balances gravity
    imu = robot.imu()
    rot = robot.data.site_xmat[robot.model.site("fr3_link8").id].reshape(3, 3)
    # proper acceleration at rest = +g along world z, expressed in the site frame
    np.testing.assert_allclose(imu.linear_acceleration, rot.T @ [0.0, 0.0, 9.81], atol=1e-3)
    np.testing.assert_allclose(imu.angular_velocity, 0.0, atol=1e-6)


@pytest.mark.parametrize("order", ["xyzw", "wxyz", ["qx", "qy", "qz", "qw"], ["w", "x", "y", "z"]])
def test_imu_orientation_equals_the_site_frame_in_any_component_order(order):
    robot = _floating_robot()
    robot.step_policy(20)
    q = robot.imu(quat_order=order).orientation
    q_wxyz = reorder_quat(q, order, "wxyz")
    rot = np.empty(9)
    import mujoco

    mujoco.mju_quat2Mat(rot, q_wxyz)
    np.testing.assert_allclose(rot, robot.data.site_xmat[robot.model.site("imu").id], atol=1e-9)


def test_base_odometry_twist_is_in_the_body_frame():
    robot = _floating_robot()
    robot.step_policy(10)
    odo = robot.base_odometry(quat_order="wxyz")
    d, m = robot.data, robot.model
    body = m.body("trunk").id
    rot = d.xmat[body].reshape(3, 3)
    np.testing.assert_allclose(odo.position, d.qpos[:3])
    np.testing.assert_allclose(odo.orientation, d.qpos[3:7])
    np.testing.assert_allclose(odo.linear_velocity, rot.T @ d.qvel[:3], atol=1e-9)  # free joint: world linear
    np.testing.assert_allclose(odo.angular_velocity, d.qvel[3:6], atol=1e-9)  # free joint: body angular


def test_fixed_base_odometry_is_static():
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=400.0, kd=40.0, keyframe="isaac_default"))
    robot.set_position_targets(robot.joint_positions() + 0.2)
    robot.step_policy(50)
    odo = robot.base_odometry()
    np.testing.assert_allclose(odo.position, 0.0)
    np.testing.assert_allclose(odo.orientation, [0, 0, 0, 1])
    np.testing.assert_allclose(np.r_[odo.linear_velocity, odo.angular_velocity], 0.0)


def test_site_pose_in_base_frame_for_the_franka_tcp():
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=400.0, kd=40.0, keyframe="isaac_default"))
    pos, quat = robot.site_pose_in_base("fr3_hand_tcp", quat_order="xyzw")
    # Isaac Lab's FR3 default pose puts the TCP in front of the base, above the table, gripper down
    assert 0.3 < pos[0] < 0.6 and abs(pos[1]) < 1e-6 and 0.2 < pos[2] < 0.6
    assert np.linalg.norm(quat) == pytest.approx(1.0)


def test_imu_without_site_is_a_configuration_error():
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=1.0))
    with pytest.raises(ConfigurationError, match="no imu_site"):
        robot.imu()


@pytest.mark.parametrize("spec, expected", [
    ("xyzw", "xyzw"), ("WXYZ", "wxyz"), (["qx", "qy", "qz", "qw"], "xyzw"), (["w", "x", "y", "z"], "wxyz"),
    (("qw", "qx", "qy", "qz"), "wxyz"),
])
def test_quat_order_spellings(spec, expected):
    assert quat_order(spec) == expected


@pytest.mark.parametrize("spec", ["xyz", "xyzz", ["a", "b", "c", "d"], ["x", "y", "z", "w", "v"]])
def test_bad_quat_order_is_refused(spec):
    with pytest.raises(ConfigurationError, match="not a permutation"):
        quat_order(spec)


@pytest.mark.parametrize("src, dst, q, expected", [
    ("wxyz", "xyzw", [1, 2, 3, 4], [2, 3, 4, 1]),
    ("xyzw", "wxyz", [2, 3, 4, 1], [1, 2, 3, 4]),
    ("wxyz", "wxyz", [1, 2, 3, 4], [1, 2, 3, 4]),
    (["qx", "qy", "qz", "qw"], ["w", "x", "y", "z"], [[2, 3, 4, 1], [6, 7, 8, 5]], [[1, 2, 3, 4], [5, 6, 7, 8]]),
])
def test_reorder_quat(src, dst, q, expected):
    np.testing.assert_array_equal(reorder_quat(np.array(q, dtype=float), src, dst), expected)
