"""Binding plan compilation on the real fixture bundles and on bundles written at test time."""

from __future__ import annotations

import numpy as np
import pytest
from binding_helpers import (
    FIXTURE_BUNDLES,
    G1_JOINTS,
    JOINTS_12,
    In,
    Out,
    fixture_bundle_dirs,
    write_bundle,
    write_g1_like_bundle,
    write_passthrough_bundle,
)

from leapp_ros.binding import BindingSettings, binding_plan_dict, compile_plan, format_binding_plan
from leapp_ros.bundle import load_bundle
from leapp_ros.errors import ConfigurationError

needs_fixtures = pytest.mark.skipif(not FIXTURE_BUNDLES.is_dir(),
                                    reason=f"shared fixtures not found at {FIXTURE_BUNDLES}")

ANYMAL = {
    "robot_root_lin_vel_b": ("odom", "nav_msgs/msg/Odometry", ("linear_velocity.x", "linear_velocity.y",
                                                               "linear_velocity.z")),
    "robot_root_ang_vel_b": ("imu/data", "sensor_msgs/msg/Imu", ("angular_velocity.x", "angular_velocity.y",
                                                                 "angular_velocity.z")),
    "robot_root_quat_w": ("imu/data", "sensor_msgs/msg/Imu", ("orientation.x", "orientation.y", "orientation.z",
                                                              "orientation.w")),
    "base_velocity": ("cmd_vel", "geometry_msgs/msg/Twist", ("linear.x", "linear.y", "angular.z")),
    "robot_joint_pos": ("joint_states", "sensor_msgs/msg/JointState", tuple(f"position[{j}]" for j in JOINTS_12)),
    "robot_joint_vel": ("joint_states", "sensor_msgs/msg/JointState", tuple(f"velocity[{j}]" for j in JOINTS_12)),
}
FRANKA_JOINTS = tuple(f"fr3_joint{i}" for i in range(1, 8))
FRANKA = {
    "joint_pos": ("joint_states", "sensor_msgs/msg/JointState", tuple(f"position[{j}]" for j in FRANKA_JOINTS)),
    "joint_vel": ("joint_states", "sensor_msgs/msg/JointState", tuple(f"velocity[{j}]" for j in FRANKA_JOINTS)),
    "target_pos": ("target_pose", "geometry_msgs/msg/PoseStamped", ("position.x", "position.y", "position.z")),
    "target_rot": ("target_pose", "geometry_msgs/msg/PoseStamped", ("orientation.w", "orientation.x",
                                                                    "orientation.y", "orientation.z")),
}
EXPECTED_INPUTS = {"anymal_like_flat": ANYMAL, "anymal_like_flat_jit": ANYMAL, "anymal_like_flat_pt2": ANYMAL,
                   "anymal_like_history": ANYMAL, "gru_recurrent": ANYMAL, "franka_fr3_reach": FRANKA}


@needs_fixtures
@pytest.mark.parametrize("bundle_dir", fixture_bundle_dirs(), ids=lambda p: p.name)
def test_fixture_inputs_bind_to_expected_fields(bundle_dir):
    plan = compile_plan(load_bundle(bundle_dir))
    got = {b.port.name: (b.topic, b.type_name, b.fields) for b in plan.inputs.bindings}
    assert got == EXPECTED_INPUTS[bundle_dir.name]


@needs_fixtures
@pytest.mark.parametrize("bundle_dir", fixture_bundle_dirs(), ids=lambda p: p.name)
def test_fixture_outputs_targets_and_gains(bundle_dir):
    bundle = load_bundle(bundle_dir)
    plan = compile_plan(bundle)
    (target,) = plan.outputs.targets
    assert target.topic == "joint_commands" and target.type_name == "std_msgs/msg/Float64MultiArray"
    assert target.joints == bundle.port(target.port.key).last_axis_names
    assert sorted(g.topic for g in plan.outputs.gains) == ["joint_commands/kd", "joint_commands/kp"]
    assert all(g.joints == target.joints for g in plan.outputs.gains)
    assert [g.port.name for g in target.gains] == [g.port.name for g in plan.outputs.gains]
    text = format_binding_plan(plan)
    for port in (*bundle.inputs, *bundle.outputs):
        assert port.name in text
    assert binding_plan_dict(plan)["outputs"][0]["joint_order"] == list(target.joints)


def test_g1_like_legacy_bundle_binds_w_first_rotation_and_joint_subset(tmp_path):
    bundle = load_bundle(write_g1_like_bundle(tmp_path))
    assert bundle.rate_hz == pytest.approx(50.0)
    plan = compile_plan(bundle)
    by_port = {b.port.name: b for b in plan.inputs.bindings}
    assert by_port["base_rot"].fields == ("orientation.w", "orientation.x", "orientation.y", "orientation.z")
    assert by_port["command"].fields == ("linear.x", "linear.y", "angular.z")
    assert by_port["joint_pos"].elements == tuple(G1_JOINTS)
    (target,) = plan.outputs.targets
    assert len(target.joints) == 14
    kp = next(g for g in plan.outputs.gains if g.role.value == "kp")
    # kp element names are reversed in the bundle; published in the targets' joint order
    assert kp.joints == target.joints
    assert list(kp.index) == list(range(13, -1, -1))
    report = format_binding_plan(plan)
    assert "joint_commands/kp" in report and "g1_joint_15" in report


def test_several_targets_get_one_topic_each(tmp_path):
    legs, arms = JOINTS_12[:6], JOINTS_12[6:]
    path = write_bundle(tmp_path, "two_targets", [In("joint_pos", [JOINTS_12], "state/joint/position")], [
        Out("legs", "joint_pos", range(6), names=[legs], kind="target/joint/position"),
        Out("arms", "joint_pos", range(6, 12), names=[arms], kind="target/joint/effort"),
        Out("legs_kp_gains", constant=[1.0] * 6, names=[legs], kind="kp"),
    ])
    plan = compile_plan(load_bundle(path))
    assert {t.port.name: t.topic for t in plan.outputs.targets} == {"legs": "joint_commands/legs",
                                                                    "arms": "joint_commands/arms"}
    assert plan.outputs.gains[0].topic == "joint_commands/legs/kp"


@pytest.mark.parametrize("params, joints", [
    ({}, JOINTS_12),
    ({"command_joints": list(reversed(JOINTS_12))}, list(reversed(JOINTS_12))),
])
def test_command_joints_sets_float64multiarray_order(tmp_path, params, joints):
    path, _ = write_passthrough_bundle(tmp_path)
    bundle = load_bundle(path)
    default_order = list(bundle.outputs[0].last_axis_names)
    plan = compile_plan(bundle, BindingSettings.from_params(params))
    target = plan.outputs.targets[0]
    expected = joints if params else default_order
    assert list(target.joints) == expected
    assert [default_order[i] for i in target.index] == expected
    assert all(list(g.joints) == expected for g in plan.outputs.gains)


@pytest.mark.parametrize("params, message", [
    ({"command_joints": JOINTS_12[:11]}, "does not list"),
    ({"command_joints": JOINTS_12 + ["gripper"]}, "'gripper'"),
    ({"ports.nonexistent.topic": "x"}, "'nonexistent'"),
    ({"ports.robot_joint_pos.type": "sensor_msgs/msg/Imu"}, "needs sensor_msgs/msg/JointState"),
    ({"ports.robot_joint_pos.ignore": True}, "cannot be ignored"),
    ({"cmd_vel.type": "std_msgs/msg/String"}, "cmd_vel.type"),
    ({"imu_to_base_quat_xyzw": [0, 0, 0, 2]}, "unit quaternion"),
    ({"ports.robot_joint_pos.joints": ["a", "b"]}, "12 values"),
    ({"ports.base_velocity.element_names": ["lin_vel_x", "lin_vel_y", "sideways"]}, "'sideways'"),
    ({"ports.base_velocity.topic": "imu/data"}, "different message types"),
])
def test_bad_parameters_refuse_configuration_naming_the_culprit(tmp_path, params, message):
    path, _ = write_passthrough_bundle(tmp_path)
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[")):
        compile_plan(load_bundle(path), BindingSettings.from_params(params))


def _fallback_bundle(tmp_path):
    return write_bundle(tmp_path, "fallback", [In("joint_pos", [JOINTS_12], "state/joint/position")], [
        Out("processed_actions", "joint_pos", range(12)),  # Isaac Lab fallback output: no kind, no names
    ])


def test_output_without_connection_is_refused_unless_mapped(tmp_path):
    bundle = load_bundle(_fallback_bundle(tmp_path))
    with pytest.raises(ConfigurationError, match="'processed_actions'.*ports.processed_actions.kind"):
        compile_plan(bundle)
    with pytest.raises(ConfigurationError, match="no element names"):
        compile_plan(bundle, BindingSettings.from_params({"ports.processed_actions.kind": "target/joint/position"}))
    plan = compile_plan(bundle, BindingSettings.from_params({
        "ports.processed_actions.kind": "target/joint/position", "ports.processed_actions.joints": JOINTS_12,
        "ports.processed_actions.type": "trajectory_msgs/msg/JointTrajectory"}))
    assert plan.outputs.targets[0].joints == tuple(JOINTS_12)
    assert plan.outputs.targets[0].type_name == "trajectory_msgs/msg/JointTrajectory"
    ignored = compile_plan(bundle, BindingSettings.from_params({"ports.processed_actions.ignore": True}))
    assert not ignored.outputs.targets and ignored.outputs.ignored[0][0].name == "processed_actions"


@pytest.mark.parametrize("port, message", [
    (In("root_lin_vel_w", [["x", "y", "z"]], "state/body/linear_velocity", "state:robot:root_lin_vel_w"),
     "'root_lin_vel_w'.*no standard ROS binding"),
    (In("contact_time", None, None, "state:contact_forces:current_air_time", shape=[1, 4]),
     "'contact_time'.*no standard ROS binding"),
    (In("mystery", None, None), "'mystery'.*no kind and no isaaclab_connection"),
    (In("quat", None, "state/body/rotation", shape=[1, 4]), "'quat'.*no element names"),
    (In("heights", None, "state/sensor/ray_hit_position", "state:scanner:ray_hits_w", shape=[1, 6]),
     "'heights'"),
])
def test_unbindable_inputs_are_refused(tmp_path, port, message):
    path = write_bundle(tmp_path, "bad", [In("joint_pos", [JOINTS_12], "state/joint/position"), port], [
        Out("joint_pos_out", "joint_pos", range(12), names=[JOINTS_12], kind="target/joint/position")])
    with pytest.raises(ConfigurationError, match=message):
        compile_plan(load_bundle(path))


def test_kind_only_ports_use_isaac_lab_default_order(tmp_path):
    path = write_bundle(tmp_path, "kinds", [
        In("ang_vel", None, "state/body/angular_velocity", shape=[1, 3]),
        In("cmd", None, "command/body/velocity", shape=[1, 3]),
        In("gravity", [["x", "y", "z"]], "state/vector3d", "state:robot:projected_gravity_b"),
        In("joint_pos", [JOINTS_12], "state/joint/position"),
    ], [Out("t", "joint_pos", range(12), names=[JOINTS_12], kind="target/joint/position")])
    plan = compile_plan(load_bundle(path))
    fields = {b.port.name: b.fields for b in plan.inputs.bindings}
    assert fields["ang_vel"] == ("angular_velocity.x", "angular_velocity.y", "angular_velocity.z")
    assert fields["cmd"] == ("linear.x", "linear.y", "angular.z")
    assert fields["gravity"] == ("projected_gravity.x", "projected_gravity.y", "projected_gravity.z")
    assert np.all(plan.inputs.topics[0].decoder.slots[0].index >= 0)


def test_binding_plan_dict_is_json_ready(tmp_path):
    import json

    plan = compile_plan(load_bundle(write_g1_like_bundle(tmp_path)))
    data = json.loads(json.dumps(binding_plan_dict(plan)))
    assert [s["topic"] for s in data["subscriptions"]] == ["imu/data", "cmd_vel", "joint_states"]
    by_port = {i["port"]: i for i in data["inputs"]}
    assert by_port["base_rot"]["element_order"] == ["w", "x", "y", "z"]
    assert by_port["command"]["on_timeout"] == "zero" and not by_port["command"]["required"]
    kp = next(o for o in data["outputs"] if o["kind"] == "kp")
    assert kp["topic"] == "joint_commands/kp" and len(kp["joint_order"]) == 14
