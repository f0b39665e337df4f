"""Decoding real ROS message objects (rosbags dataclasses) into bundle inputs, and encoding outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from binding_helpers import (
    FIXTURE_BUNDLES,
    JOINTS_12,
    In,
    Out,
    write_bundle,
    write_g1_like_bundle,
    write_passthrough_bundle,
)

from leapp_ros.binding import BindingSettings, MessageEncoder, compile_plan
from leapp_ros.binding.rotations import multiply, projected_gravity, rotate
from leapp_ros.bundle import load_bundle

ros_types = pytest.importorskip("leapp_ros.transport.ros_types")
TYPESTORE = ros_types.get_ros_typestore("jazzy")


def msg(type_name, **fields):
    return ros_types.new_message(TYPESTORE, type_name, fields)


def joint_state(names, position=(), velocity=(), effort=()):
    return msg("sensor_msgs/msg/JointState", name=list(names), position=np.asarray(position, float),
               velocity=np.asarray(velocity, float), effort=np.asarray(effort, float))


def topic_of(plan, type_name):
    return next(t for t in plan.inputs.topics if t.type_name == type_name)


@pytest.fixture()
def passthrough(tmp_path):
    path, _ = write_passthrough_bundle(tmp_path)
    return compile_plan(load_bundle(path))


def test_joint_state_any_order_with_extra_joints(passthrough):
    plan = passthrough
    topic = topic_of(plan, "sensor_msgs/msg/JointState")
    rng = np.random.default_rng(0)
    names = JOINTS_12 + ["extra_a", "extra_b"]
    order = rng.permutation(len(names))
    truth_pos = {n: float(i) for i, n in enumerate(names)}
    truth_vel = {n: 100.0 + i for i, n in enumerate(names)}
    shuffled = [names[i] for i in order]
    m = joint_state(shuffled, [truth_pos[n] for n in shuffled], [truth_vel[n] for n in shuffled])
    assert plan.inputs.on_message(topic, m, now_ns=1_000) is None
    by_port = {b.port.name: b for b in plan.inputs.bindings}
    np.testing.assert_array_equal(by_port["robot_joint_pos"].value.ravel(), [truth_pos[j] for j in JOINTS_12])
    np.testing.assert_array_equal(by_port["robot_joint_vel"].value.ravel(), [truth_vel[j] for j in JOINTS_12])
    # the same layout again reuses the cached index arrays; a new order re-indexes
    again = list(reversed(shuffled))
    m2 = joint_state(again, [truth_pos[n] + 1 for n in again], [truth_vel[n] for n in again])
    assert plan.inputs.on_message(topic, m2, now_ns=2_000) is None
    np.testing.assert_array_equal(by_port["robot_joint_pos"].value.ravel(), [truth_pos[j] + 1 for j in JOINTS_12])


@pytest.mark.parametrize("names, position, velocity, reason", [
    (JOINTS_12[:-1], range(11), range(11), "joint 'RH_KFE' required by port 'policy/robot_joint_pos' is missing"),
    (JOINTS_12, [*range(11), math.nan], range(12), "non-finite position for joint 'RH_KFE'"),
    (JOINTS_12, range(12), [*range(5), math.inf, *range(6)], "non-finite velocity for joint 'LH_HFE'"),
    (JOINTS_12, range(11), range(12), r"position\[\] has 11 values for 12 names"),
    (JOINTS_12 + ["LF_HAA"], range(13), range(13), "'LF_HAA' appears twice"),
    (JOINTS_12, (), (), "no bound field"),
])
def test_bad_joint_state_is_rejected_whole(passthrough, names, position, velocity, reason):
    plan = passthrough
    topic = topic_of(plan, "sensor_msgs/msg/JointState")
    good = joint_state(JOINTS_12, np.full(12, 7.0), np.full(12, 8.0))
    assert plan.inputs.on_message(topic, good, 1) is None
    rejected = plan.inputs.on_message(topic, joint_state(names, position, velocity), 2)
    assert rejected is not None and pytest.approx(0) == 0
    assert __import__("re").search(reason, rejected), rejected
    values = {b.port.name: b for b in plan.inputs.bindings}
    np.testing.assert_array_equal(values["robot_joint_pos"].value, np.full((1, 12), 7.0))
    np.testing.assert_array_equal(values["robot_joint_vel"].value, np.full((1, 12), 8.0))
    assert values["robot_joint_pos"].received_ns == 1
    assert topic.rejected == 1 and topic.last_rejection.startswith("joint_states: ")


def test_partial_joint_states_fill_only_the_fields_they_carry(passthrough):
    plan = passthrough
    topic = topic_of(plan, "sensor_msgs/msg/JointState")
    by_port = {b.port.name: b for b in plan.inputs.bindings}
    assert plan.inputs.on_message(topic, joint_state(JOINTS_12, position=np.arange(12.0)), 5) is None
    assert by_port["robot_joint_pos"].received_ns == 5 and by_port["robot_joint_vel"].received_ns == -1
    assert any("robot_joint_vel" in m for m in plan.inputs.missing())
    assert plan.inputs.on_message(topic, joint_state(JOINTS_12, velocity=np.arange(12.0) * 2), 6) is None
    assert by_port["robot_joint_vel"].received_ns == 6 and by_port["robot_joint_pos"].received_ns == 5
    np.testing.assert_array_equal(by_port["robot_joint_vel"].value.ravel(), np.arange(12.0) * 2)


def _quat(axis, angle):
    s = math.sin(angle / 2)
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2))


def imu(q, omega=(0.1, -0.2, 0.3), unknown_orientation=False):
    cov = np.zeros(9)
    if unknown_orientation:
        cov[0] = -1
    return msg("sensor_msgs/msg/Imu",
               orientation=msg("geometry_msgs/msg/Quaternion", x=q[0], y=q[1], z=q[2], w=q[3]),
               orientation_covariance=cov,
               angular_velocity=msg("geometry_msgs/msg/Vector3", x=omega[0], y=omega[1], z=omega[2]))


Q = _quat((0.6, 0.0, 0.8), 0.7)


@pytest.mark.parametrize("names, expected", [
    (["qx", "qy", "qz", "qw"], [Q[0], Q[1], Q[2], Q[3]]),
    (["w", "x", "y", "z"], [Q[3], Q[0], Q[1], Q[2]]),
    (["qw", "qz", "qy", "qx"], [Q[3], Q[2], Q[1], Q[0]]),
])
def test_imu_orientation_follows_element_names(tmp_path, names, expected):
    path = write_bundle(tmp_path, "q", [In("quat", [names], "state/body/rotation", "state:robot:root_quat_w"),
                                        In("gravity", [["x", "y", "z"]], "state/vector3d",
                                           "state:robot:projected_gravity_b"),
                                        In("omega", [["x", "y", "z"]], "state/body/angular_velocity",
                                           "state:robot:root_ang_vel_b")],
                        [Out("t", "quat", range(4), names=[["a", "b", "c", "d"]], kind="target/joint/position")])
    plan = compile_plan(load_bundle(path))
    topic = topic_of(plan, "sensor_msgs/msg/Imu")
    assert plan.inputs.on_message(topic, imu(Q), 1) is None
    by_port = {b.port.name: b for b in plan.inputs.bindings}
    np.testing.assert_allclose(by_port["quat"].value.ravel(), expected, rtol=1e-6)
    np.testing.assert_allclose(by_port["gravity"].value.ravel(), projected_gravity(Q), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(by_port["omega"].value.ravel(), [0.1, -0.2, 0.3], rtol=1e-6)


def test_imu_mounting_rotation_is_applied(tmp_path):
    path = write_bundle(tmp_path, "q", [In("quat", [["qx", "qy", "qz", "qw"]], "state/body/rotation",
                                           "state:robot:root_quat_w"),
                                        In("omega", [["x", "y", "z"]], "state/body/angular_velocity",
                                           "state:robot:root_ang_vel_b")],
                        [Out("t", "quat", range(4), names=[["a", "b", "c", "d"]], kind="target/joint/position")])
    mount = _quat((0.0, 0.0, 1.0), math.pi / 2)  # IMU yawed 90 degrees in the base frame
    plan = compile_plan(load_bundle(path), BindingSettings.from_params({"imu_to_base_quat_xyzw": list(mount)}))
    base = _quat((1.0, 0.0, 0.0), 0.3)
    imu_orientation = multiply(base, mount)  # q_world_imu = q_world_base * q_base_imu
    omega_imu = (1.0, 0.0, 0.0)
    assert plan.inputs.on_message(plan.inputs.topics[0], imu(imu_orientation, omega_imu), 1) is None
    by_port = {b.port.name: b for b in plan.inputs.bindings}
    np.testing.assert_allclose(by_port["quat"].value.ravel(), base, atol=1e-6)
    np.testing.assert_allclose(by_port["omega"].value.ravel(), rotate(mount, omega_imu), atol=1e-6)
    np.testing.assert_allclose(by_port["omega"].value.ravel(), (0.0, 1.0, 0.0), atol=1e-6)


@pytest.mark.parametrize("message, reason", [
    (lambda: imu((0, 0, 0, 0)), "not a unit quaternion"),
    (lambda: imu((0, 0, 0, 1), unknown_orientation=True), "orientation_covariance"),
    (lambda: imu((math.nan, 0, 0, 1)), "not a unit quaternion"),
])
def test_bad_imu_is_rejected(passthrough, message, reason):
    plan = passthrough
    topic = topic_of(plan, "sensor_msgs/msg/Imu")
    assert reason in plan.inputs.on_message(topic, message(), 1)
    assert all(b.received_ns == -1 for b in topic.bindings)


def test_unbound_non_finite_fields_do_not_reject(passthrough, tmp_path):
    # the passthrough bundle reads only the orientation from the IMU
    assert passthrough.inputs.on_message(topic_of(passthrough, "sensor_msgs/msg/Imu"),
                                         imu((0, 0, 0, 1), omega=(math.nan, 0, 0)), 1) is None
    path = write_bundle(tmp_path / "omega", "omega", [In("omega", [["x", "y", "z"]], "state/body/angular_velocity",
                                                "state:robot:root_ang_vel_b")],
                        [Out("t", "omega", range(3), names=[["a", "b", "c"]], kind="target/joint/position")])
    plan = compile_plan(load_bundle(path))
    assert "non-finite" in plan.inputs.on_message(plan.inputs.topics[0], imu((0, 0, 0, 1), (math.nan, 0, 0)), 1)


def test_velocity_command_times_out_to_zero_and_state_goes_stale(passthrough):
    plan = passthrough
    inputs = plan.inputs
    js = topic_of(plan, "sensor_msgs/msg/JointState")
    imu_topic = topic_of(plan, "sensor_msgs/msg/Imu")
    twist = topic_of(plan, "geometry_msgs/msg/Twist")
    inputs.snapshot(0)
    assert not inputs.ready()
    t0 = 10 * 10**9
    inputs.on_message(js, joint_state(JOINTS_12, np.ones(12), np.ones(12)), t0)
    inputs.on_message(imu_topic, imu((0, 0, 0, 1)), t0)
    inputs.snapshot(t0)
    assert inputs.ready()  # the velocity command is optional: zero until one arrives
    cmd = msg("geometry_msgs/msg/Twist", linear=msg("geometry_msgs/msg/Vector3", x=0.5, y=-0.25, z=9.0),
              angular=msg("geometry_msgs/msg/Vector3", x=7.0, y=8.0, z=0.75))
    inputs.on_message(twist, cmd, t0)
    inputs.snapshot(t0 + 10**8)
    assert inputs.ready()
    np.testing.assert_array_equal(inputs.engine_inputs["policy/base_velocity"].ravel(), [0.5, -0.25, 0.75])
    inputs.snapshot(t0 + 2 * 10**8)
    assert inputs.ready()
    inputs.snapshot(t0 + 6 * 10**8)
    assert not inputs.ready()  # joint state and IMU are now stale (0.25 s)
    np.testing.assert_array_equal(inputs.engine_inputs["policy/base_velocity"].ravel(), [0.0, 0.0, 0.0])
    assert {s.split("'")[1] for s in inputs.stale(t0 + 6 * 10**8)} == {"robot_joint_pos", "robot_joint_vel",
                                                                       "robot_root_quat_w"}


@pytest.mark.skipif(not FIXTURE_BUNDLES.is_dir(), reason=f"shared fixtures not found at {FIXTURE_BUNDLES}")
@pytest.mark.parametrize("frame, accepted", [("", True), ("base_link", True), ("fr3_link0", True), ("map", False)])
def test_franka_pose_command_frame_and_w_first_order(frame, accepted):
    bundle = load_bundle(FIXTURE_BUNDLES / "franka_fr3_reach")
    plan = compile_plan(bundle, BindingSettings.from_params({"base_frame": "fr3_link0"}))
    topic = topic_of(plan, "geometry_msgs/msg/PoseStamped")
    q = _quat((0.0, 1.0, 0.0), 2.0)
    pose = msg("geometry_msgs/msg/PoseStamped",
               header=msg("std_msgs/msg/Header", frame_id=frame),
               pose=msg("geometry_msgs/msg/Pose", position=msg("geometry_msgs/msg/Point", x=0.4, y=-0.1, z=0.3),
                        orientation=msg("geometry_msgs/msg/Quaternion", x=q[0], y=q[1], z=q[2], w=q[3])))
    reason = plan.inputs.on_message(topic, pose, 1)
    if frame == "base_link":  # not the configured base frame
        assert "'base_link' is not the robot base frame 'fr3_link0'" in reason
        return
    if not accepted:
        assert "'map'" in reason
        return
    assert reason is None
    by_port = {b.port.name: b for b in plan.inputs.bindings}
    np.testing.assert_allclose(by_port["target_pos"].value.ravel(), [0.4, -0.1, 0.3], rtol=1e-6)
    np.testing.assert_allclose(by_port["target_rot"].value.ravel(), [q[3], q[0], q[1], q[2]], rtol=1e-6)


def test_g1_like_bundle_decodes_twist_with_short_names(tmp_path):
    plan = compile_plan(load_bundle(write_g1_like_bundle(tmp_path)),
                        BindingSettings.from_params({"cmd_vel.type": "geometry_msgs/msg/TwistStamped"}))
    topic = topic_of(plan, "geometry_msgs/msg/TwistStamped")
    cmd = msg("geometry_msgs/msg/TwistStamped", twist=msg(
        "geometry_msgs/msg/Twist", linear=msg("geometry_msgs/msg/Vector3", x=1.0, y=2.0, z=3.0),
        angular=msg("geometry_msgs/msg/Vector3", x=4.0, y=5.0, z=6.0)))
    assert plan.inputs.on_message(topic, cmd, 1) is None
    assert plan.inputs.bindings[2].value.ravel().tolist() == [1.0, 2.0, 6.0]


@pytest.mark.parametrize("type_name, read", [
    ("std_msgs/msg/Float64MultiArray", lambda m: (None, m.data)),
    ("trajectory_msgs/msg/JointTrajectory", lambda m: (m.joint_names, m.points[0].positions)),
    ("sensor_msgs/msg/JointState", lambda m: (m.name, m.position)),
])
def test_target_encoders_publish_names_and_values_in_order(passthrough, type_name, read):
    plan = passthrough
    target = plan.outputs.targets[0]
    encoder = MessageEncoder(type_name, target.joints, target.field,
                             lambda t, **f: ros_types.new_message(TYPESTORE, t, f), 0.02)
    outputs = {p.key: np.arange(p.size, dtype=np.float32).reshape(p.shape) * 1.5 for p in plan.bundle.outputs}
    plan.outputs.gather(outputs)
    message = encoder.encode(target.values, 1_500_000_000)
    names, values = read(message)
    assert names is None or list(names) == list(target.joints)
    np.testing.assert_array_equal(values, np.arange(12) * 1.5)
    data = TYPESTORE.serialize_cdr(message, type_name)  # the message is a valid ROS message
    assert len(data) > 8


def stamped_joint_state(stamp_s, position=1.0):
    m = joint_state(JOINTS_12, np.full(12, position), np.zeros(12))
    m.header.stamp.sec, m.header.stamp.nanosec = int(stamp_s), int(round((stamp_s % 1) * 1e9))
    return m


@pytest.mark.parametrize("stamps, arrivals", [
    ([1.0, 1.01, 1.02], ["accepted", "accepted", "accepted"]),
    ([1.0, 1.0], ["accepted", "dropped"]),  # a duplicated stamp refreshes nothing
    ([1.0, 0.99], ["accepted", "dropped"]),  # out of order
    ([10.0, 2.0, 2.01], ["accepted", "accepted", "accepted"]),  # sim-time reset: accept and re-base
    ([0.0, 0.0], ["accepted", "accepted"]),  # unset stamps: arrival time alone
])
def test_ledger_judges_stamp_order_on_arrival(passthrough, stamps, arrivals):
    inputs = passthrough.inputs
    topic = topic_of(passthrough, "sensor_msgs/msg/JointState")
    got = [inputs.receive(topic, stamped_joint_state(s, i), 100 + i).value for i, s in enumerate(stamps)]
    assert got == arrivals
    assert topic.dropped == arrivals.count("dropped") and topic.accepted == arrivals.count("accepted")
    last_accepted = max(i for i, a in enumerate(arrivals) if a == "accepted")
    assert topic.bindings[0].received_ns == 100 + last_accepted  # a dropped message refreshes no arrival time


def test_ledger_is_the_one_record_of_arrivals_rejections_and_ages(passthrough):
    inputs = passthrough.inputs
    js = topic_of(passthrough, "sensor_msgs/msg/JointState")
    imu_topic = topic_of(passthrough, "sensor_msgs/msg/Imu")
    t0 = 10 * 10**9
    assert inputs.receive(js, joint_state(JOINTS_12, np.ones(12), np.ones(12)), t0).value == "accepted"
    inputs.snapshot(t0 + 40 * 10**6)
    ages = dict(zip((b.port.name for b in inputs.bindings), inputs.ages_s))
    assert ages["robot_joint_pos"] == pytest.approx(0.04) and math.isinf(ages["robot_root_quat_w"])
    assert inputs.receive(imu_topic, imu((math.nan, 0, 0, 1)), t0).value == "rejected"
    assert inputs.rejected_total == 1
    index, reason = inputs.last_rejection
    assert inputs.bindings[index].topic == imu_topic.topic and "nan" in reason
    inputs.snapshot(t0 - 5 * 10**9)  # the clock went back (sim time reset): every arrival is forgotten
    assert np.isinf(inputs.ages_s).all() and js.bindings[0].received_ns == -1


def test_input_timeout_makes_state_inputs_stale_for_activation(passthrough):
    inputs = passthrough.inputs
    js = topic_of(passthrough, "sensor_msgs/msg/JointState")
    t0 = 10 * 10**9
    inputs.receive(js, joint_state(JOINTS_12, np.ones(12), np.ones(12)), t0)
    assert inputs.stale(t0 + 200 * 10**6) == []
    assert [s.split("'")[1] for s in inputs.stale(t0 + 300 * 10**6)] == ["robot_joint_pos", "robot_joint_vel"]
