"""SimRobot actuation: PD at physics rate, gravity compensation, effort limits, delay, reset, stepping."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="mujoco is not installed (pip install mujoco)")

from sim_helpers import BARE_JOINTS_XML, FR3_JOINTS, model_from_xml, require_fr3  # noqa: E402

from leapp_ros.errors import ConfigurationError  # noqa: E402
from leapp_ros.sim import CommandDelay, SimRobot, SimRobotConfig, pd_torque  # noqa: E402

FR3_KP = [400.0] * 4 + [100.0] * 3  # Isaac Lab FRANKA_PANDA_HIGH_PD_CFG-like stiffness
FR3_KD = [80.0] * 4 + [20.0] * 3
ISAAC_DEFAULT = np.array([0.0, -0.569, 0.0, -2.810, 0.0, 3.037, 0.741])


@pytest.mark.parametrize("gravity_compensation, max_drift", [(True, 1e-3), (False, None)])
def test_pd_holds_franka_pose_under_gravity_only_with_compensation(gravity_compensation, max_drift):
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=FR3_KP, kd=FR3_KD, keyframe="isaac_default",
                                                  gravity_compensation=gravity_compensation))
    np.testing.assert_allclose(robot.joint_positions(), ISAAC_DEFAULT)
    robot.step_policy(int(2.0 / robot.physics_dt))
    drift = np.abs(robot.joint_positions() - ISAAC_DEFAULT).max()
    if max_drift is not None:
        assert drift < max_drift
        np.testing.assert_allclose(robot.joint_velocities(), 0.0, atol=1e-3)
    else:  # without compensation a finite-gain PD sags under gravity
        assert drift > 0.01


@pytest.mark.parametrize("joint, offset", [(0, 0.3), (3, -0.25), (6, 0.4)])
def test_pd_tracks_a_step_target(joint, offset):
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=FR3_KP, kd=FR3_KD, keyframe="isaac_default",
                                                  gravity_compensation=True))
    target = ISAAC_DEFAULT.copy()
    target[joint] += offset
    robot.set_position_targets(target)
    robot.step_policy(int(1.5 / robot.physics_dt))
    np.testing.assert_allclose(robot.joint_positions(), target, atol=5e-3)


def test_effort_is_clipped_to_the_limits():
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=1e4, kd=0.0, keyframe="isaac_default"))
    robot.set_position_targets(ISAAC_DEFAULT + 1.0)
    robot.step()
    np.testing.assert_allclose(robot.joint_efforts(), [87.0] * 4 + [12.0] * 3)
    np.testing.assert_allclose(robot.data.actuator_force, [87.0] * 4 + [12.0] * 3)


@pytest.mark.parametrize("q, qd, qt, vt, kp, kd, ff, lim, expected", [
    (0.0, 0.0, 1.0, 0.0, 10.0, 1.0, 0.0, np.inf, 10.0),
    (0.5, 2.0, 1.0, 0.0, 10.0, 1.0, 0.0, np.inf, 3.0),
    (0.0, 0.0, 0.0, 1.0, 10.0, 2.0, 0.5, np.inf, 2.5),
    (0.0, 0.0, 1.0, 0.0, 100.0, 0.0, 0.0, 20.0, 20.0),
    (0.0, 0.0, -1.0, 0.0, 100.0, 0.0, 0.0, 20.0, -20.0),
])
def test_pd_law(q, qd, qt, vt, kp, kd, ff, lim, expected):
    assert pd_torque(np.array(q), np.array(qd), np.array(qt), np.array(vt), kp, kd, ff, lim) == pytest.approx(expected)


@pytest.mark.parametrize("steps", [0, 1, 3, 7])
def test_command_delay_line_delays_by_the_configured_steps(steps):
    delay = CommandDelay(steps, (2,))
    delay.reset(np.array([-1.0, -1.0]))
    out = [delay.push(np.array([float(k), 10.0 * k]))[0] for k in range(12)]
    expected = [float(k - steps) if k >= steps else -1.0 for k in range(12)]
    assert out == expected


@pytest.mark.parametrize("delay_steps", [0, 2, 5])
def test_actuator_delay_in_the_robot(delay_steps):
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=FR3_KP, kd=FR3_KD, keyframe="isaac_default",
                                                  gravity_compensation=True, delay_steps=delay_steps))
    robot.step_policy(3)
    before = robot.joint_efforts()
    target = robot.joint_positions()
    target[0] += 0.1
    robot.set_position_targets(target)
    jumps = []
    for _ in range(delay_steps + 2):
        robot.step()
        jumps.append(abs(robot.joint_efforts()[0] - before[0]) > 20.0)  # 400 Nm/rad x 0.1 rad = 40 Nm
    assert jumps.index(True) == delay_steps


def test_delay_buffer_is_cleared_by_reset():
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=FR3_KP, kd=FR3_KD, keyframe="isaac_default",
                                                  gravity_compensation=True, delay_steps=4))
    robot.set_position_targets(ISAAC_DEFAULT + 0.2)
    robot.step_policy(2)
    robot.reset()
    robot.step_policy(6)
    np.testing.assert_allclose(robot.joint_positions(), ISAAC_DEFAULT, atol=1e-4)


@pytest.mark.parametrize("keyframe, initial, expected", [
    (None, {}, np.zeros(7)),
    ("home", {}, np.array([0, 0, 0, -1.57079, 0, 1.57079, -0.7853])),
    ("isaac_default", {}, ISAAC_DEFAULT),
    ("isaac_default", {j: 0.1 * k for k, j in enumerate(FR3_JOINTS)}, 0.1 * np.arange(7)),
])
def test_reset_pose_and_hold_targets(keyframe, initial, expected):
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=FR3_KP, kd=FR3_KD, keyframe=keyframe,
                                                  initial_joint_positions=initial))
    robot.set_position_targets(expected + 0.3)
    robot.step_policy(100)
    robot.reset()
    assert robot.time == 0.0
    np.testing.assert_allclose(robot.joint_positions(), expected)
    np.testing.assert_allclose(robot.targets[0], expected)
    np.testing.assert_allclose(robot.joint_velocities(), 0.0)


@pytest.mark.parametrize("physics_dt, n", [(None, 10), (0.001, 25), (0.005, 4)])
def test_step_policy_advances_time_by_n_physics_steps(physics_dt, n):
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=FR3_KP, kd=FR3_KD, physics_dt=physics_dt))
    dt = physics_dt or 1.0 / 480.0
    assert robot.physics_dt == pytest.approx(dt)
    robot.step_policy(n)
    assert robot.time == pytest.approx(n * dt)


def test_joint_subset_targets_and_partial_reset():
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=FR3_KP, kd=FR3_KD, keyframe="isaac_default",
                                                  gravity_compensation=True))
    idx = robot.joints.indices(["fr3_joint4", "fr3_joint2"], "JointTrajectory on 'joint_commands'")
    robot.set_targets(position=np.array([-2.0, -0.3]), indices=idx)
    expected = ISAAC_DEFAULT.copy()
    expected[[3, 1]] = [-2.0, -0.3]
    np.testing.assert_allclose(robot.targets[0], expected)
    robot.reset_joints(np.array([5]), np.array([2.0]))
    assert robot.joint_positions()[5] == 2.0 and robot.targets[0][5] == 2.0


@pytest.mark.parametrize("kwargs, culprit", [
    ({"position": np.zeros(3)}, "shape (3,), expected (7,)"),
    ({"velocity": np.full(7, np.inf)}, "velocity target contains a non-finite value"),
    ({"position": np.ones(7), "effort": np.array([np.nan] * 7)}, "effort target contains a non-finite"),
])
def test_bad_targets_are_refused(kwargs, culprit):
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=FR3_KP))
    before = robot.targets
    with pytest.raises(ConfigurationError) as err:
        robot.set_targets(**kwargs)
    assert culprit in str(err.value)
    np.testing.assert_array_equal(robot.targets, before)  # nothing half-applied


def test_gains_can_be_replaced_at_runtime():
    robot = SimRobot(require_fr3(), SimRobotConfig(kp=0.0, kd=0.0, keyframe="isaac_default"))
    robot.set_gains(kp={j: 50.0 for j in FR3_JOINTS}, kd=np.full(7, 5.0))
    np.testing.assert_array_equal(robot.kp, 50.0)
    np.testing.assert_array_equal(robot.kd, 5.0)


def test_joints_without_actuator_get_torque_through_qfrc_applied():
    robot = SimRobot(model_from_xml(BARE_JOINTS_XML), SimRobotConfig(kp=[5.0, 50.0], kd=[1.0, 5.0]))
    assert robot.effort_limits.tolist() == [np.inf, np.inf]
    robot.set_position_targets(np.array([0.5, 0.05]))
    robot.step_policy(2000)
    np.testing.assert_allclose(robot.joint_positions(), [0.5, 0.05], atol=1e-3)
