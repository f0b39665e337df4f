"""The real NVIDIA Franka FR3 reach bundle drives the FR3 fixture model in SimRobot (ROS-free closed loop)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="mujoco is not installed (pip install mujoco)")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime)")

from sim_helpers import FR3_BUNDLE_YAML, FR3_JOINTS, require_fr3  # noqa: E402

from leapp_ros.sim import SimRobot, SimRobotConfig  # noqa: E402

POLICY_HZ = 30.0  # Isaac Lab reach: sim dt 1/60 x decimation 2; here 1/480 s x 16
GRIPPER_DOWN_WXYZ = (0.0, 1.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def franka_policy():
    require_fr3()
    if not FR3_BUNDLE_YAML.is_file():
        pytest.skip(f"shared fixture {FR3_BUNDLE_YAML} is absent")
    import yaml

    contract = yaml.safe_load(FR3_BUNDLE_YAML.read_text())["models"]["policy"]
    for port in contract["inputs"][:2] + contract["outputs"]:
        assert port["element_names"] == [FR3_JOINTS]  # the bundle's joint order is the MJCF's
    return ort.InferenceSession(str(FR3_BUNDLE_YAML.parent / "policy.onnx"), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("target_pos", [(0.5, 0.0, 0.3), (0.4, 0.2, 0.45), (0.55, -0.15, 0.25)])
def test_franka_reach_bundle_reaches_targets_in_mujoco(franka_policy, target_pos):
    robot = SimRobot(require_fr3(), SimRobotConfig(keyframe="isaac_default", gravity_compensation=True))
    decimation = int(round(1.0 / (POLICY_HZ * robot.physics_dt)))
    f32 = lambda x: np.asarray(x, dtype=np.float32)[None]  # noqa: E731
    for _ in range(int(3.0 * POLICY_HZ)):
        target, kp, kd = franka_policy.run(None, {
            "joint_pos": f32(robot.joint_positions()), "joint_vel": f32(robot.joint_velocities()),
            "target_pos": f32(target_pos), "target_rot": f32(GRIPPER_DOWN_WXYZ)})
        robot.set_gains(kp[0], kd[0])  # the bundle's constant kp/kd outputs
        robot.set_position_targets(target[0].astype(float))
        robot.step_policy(decimation)
    pos, quat_wxyz = robot.site_pose_in_base("fr3_hand", quat_order="wxyz")
    assert np.linalg.norm(pos - np.array(target_pos)) < 0.03
    assert abs(np.dot(quat_wxyz, GRIPPER_DOWN_WXYZ)) > 0.99  # hand points down
    np.testing.assert_allclose(robot.kp, [600.0] * 4 + [250.0, 150.0, 50.0])
