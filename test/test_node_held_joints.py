"""Joints the policy does not drive are held (default pose + gains from a vendor block or parameters): the node
commands the whole robot, ramps the held joints in like the rest, and the binding report says where each comes from."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from binding_helpers import JOINTS_12, write_passthrough_bundle
from node_helpers import EXTRA_JOINTS, FakeRobot, RobotState, start_node, stop_node, wait_for
from transport_helpers import dds_env  # noqa: F401 - module fixture: loopback CYCLONEDDS_URI + unique domain

from leapp_ros.binding import BindingSettings, binding_plan_dict, compile_plan, format_binding_plan
from leapp_ros.bundle import load_bundle
from leapp_ros.errors import ConfigurationError

F64 = "std_msgs/msg/Float64MultiArray"
GRIPPER, HEAD, LIDAR = EXTRA_JOINTS
VENDOR = {"robot_defaults": {"robot": "toy", "joints": {
    GRIPPER: {"default_pos": 0.02, "stiffness": 50.0, "damping": 2.0},
    HEAD: {"default_pos": -0.3, "stiffness": 20.0, "damping": 1.0},
    JOINTS_12[0]: {"default_pos": 9.0, "stiffness": 1.0, "damping": 1.0},  # driven by the policy: the policy wins
}}}


def held_bundle(tmp_path, vendor=VENDOR):
    path, _ = write_passthrough_bundle(tmp_path)
    document = yaml.safe_load(path.read_text())
    document.update(vendor)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_vendor_block_holds_the_joints_the_policy_does_not_drive(tmp_path):
    bundle = load_bundle(held_bundle(tmp_path))
    plan = compile_plan(bundle)
    target = plan.outputs.targets[0]
    policy = list(bundle.outputs[0].last_axis_names)
    assert target.joints == (*policy, GRIPPER, HEAD)
    assert [h.name for h in target.held] == [GRIPPER, HEAD]
    outputs = {p.key: np.arange(p.size, dtype=np.float32).reshape(p.shape) + (100 if p.kind == "kp" else 0)
               for p in bundle.outputs}
    plan.outputs.gather(outputs)
    np.testing.assert_array_equal(target.values, [*range(12), 0.02, -0.3])
    kp = next(g for g in target.gains if g.role.value == "kp")
    assert kp.joints == target.joints
    np.testing.assert_array_equal(kp.values, [*range(100, 112), 50.0, 20.0])
    report = binding_plan_dict(plan)
    sources = report["outputs"][0]["joint_sources"]
    assert sources[policy[0]] == "policy output 'joint_pos'"
    assert sources[HEAD] == "held at -0.3 (vendor block 'robot_defaults')"
    text = format_binding_plan(plan)
    assert "Held joints" in text
    assert f"{GRIPPER:<28} position 0.02, kp 50, kd 2  (vendor block 'robot_defaults')" in text
    whole = next(b for b in plan.inputs.bindings if b.port.name == "whole_robot_joint_pos")
    assert whole.elements == target.joints and not whole.feeds_engine
    assert "robot/whole_robot_joint_pos" not in plan.inputs.engine_inputs


@pytest.mark.parametrize("params, expected", [
    ({"held_joints.lidar_spin.position": 0.5, "held_joints.lidar_spin.kp": 3.0, "held_joints.lidar_spin.kd": 0.1},
     {GRIPPER: 0.02, HEAD: -0.3, LIDAR: 0.5}),
    ({"held_joints.head_pan.position": 0.25}, {GRIPPER: 0.02, HEAD: 0.25}),
    ({"held_joints.from_vendor_block": False, "held_joints.lidar_spin.position": 0.5,
      "held_joints.lidar_spin.kp": 3.0, "held_joints.lidar_spin.kd": 0.1}, {LIDAR: 0.5}),
    ({"command_joints": [*JOINTS_12, HEAD]}, {HEAD: -0.3}),
], ids=["params_add", "params_override", "vendor_off", "command_joints_filter"])
def test_parameters_add_override_or_replace_the_vendor_block(tmp_path, params, expected):
    plan = compile_plan(load_bundle(held_bundle(tmp_path)), BindingSettings.from_params(params))
    target = plan.outputs.targets[0]
    assert {h.name: h.position for h in target.held} == expected
    for name, position in expected.items():
        assert target.values[target.joints.index(name)] == position


@pytest.mark.parametrize("vendor, params, message", [
    ({}, {"held_joints.lidar_spin.position": 0.5},
     r"held joint 'lidar_spin' .* has no kp .*held_joints\.lidar_spin\.kp"),
    ({"defaults": {"joint_names": [LIDAR], "default_joint_pos": ["x"], "stiffness": 1.0, "damping": 0.1}}, {},
     r"held joint 'lidar_spin' \(vendor block 'defaults'\): position must be a finite number"),
    ({}, {"held_joints.lidar_spin.kp": 1.0}, r"held joint 'lidar_spin' .* has no default position"),
], ids=["no_gain", "bad_vendor_value", "no_position"])
def test_held_joints_that_cannot_be_commanded_are_refused(tmp_path, vendor, params, message):
    bundle = load_bundle(held_bundle(tmp_path, vendor))  # the vendor block never blocks loading
    with pytest.raises(ConfigurationError, match=message):
        compile_plan(bundle, BindingSettings.from_params(params))


def test_parallel_list_vendor_block(tmp_path):
    vendor = {"nvidia": {"deploy": {"joint_names": [GRIPPER, LIDAR], "default_joint_pos": [0.01, 0.0],
                                    "kps": [10.0, 5.0], "kds": 0.5}}}
    plan = compile_plan(load_bundle(held_bundle(tmp_path, vendor)))
    assert [(h.name, h.position, h.kp, h.kd) for h in plan.outputs.targets[0].held] == [
        (GRIPPER, 0.01, 10.0, 0.5), (LIDAR, 0.0, 5.0, 0.5)]


pytestmark = pytest.mark.timeout(120)


def test_node_commands_the_whole_robot(dds_env, tmp_path, node_transport):  # noqa: F811
    """Policy joints follow the policy (a passthrough of measured positions), held joints ramp from their measured
    position to the default and stay there, and the kp/kd messages carry the held joints' gains."""
    path = held_bundle(tmp_path)
    bundle = load_bundle(path)
    policy = list(bundle.outputs[0].last_axis_names)
    robot = FakeRobot()
    state = RobotState(np.random.default_rng(11), JOINTS_12)
    state.install(robot)
    robot.start(rate_hz=200.0)
    targets = robot.collect("joint_commands", F64)
    kp = robot.collect("joint_commands/kp", F64, latched=True)
    params = {"safety.ramp_in_duration_s": 1.0, "safety.ramp_in_velocity_cap": 1.0e6,
              "held_joints.lidar_spin.position": 0.4, "held_joints.lidar_spin.kp": 3.0,
              "held_joints.lidar_spin.kd": 0.2}
    joints = [*policy, GRIPPER, HEAD, LIDAR]
    final = {GRIPPER: 0.02, HEAD: -0.3, LIDAR: 0.4}
    settled = np.array([state.position[j] for j in policy] + list(final.values()))

    def done() -> bool:  # a loaded machine may hold a moment on a late message: wait for the settled command
        last = targets.messages[-1] if targets.messages else None
        return last is not None and len(last.data) == len(joints) and np.allclose(last.data, settled, atol=1e-6)
    node = start_node(path, dds_env, params=params, transport=node_transport)
    try:
        got = wait_for(lambda: (len(targets.messages) >= 60 and done()) or node.poll() is not None, timeout=60)
        running = targets.snapshot()
        gains = kp.snapshot()
    finally:
        code, output = stop_node(node)
        robot.close()
    assert got and code == 0, output[-3000:]
    data = np.array([m.data for m in running])
    assert data.shape[1] == len(joints), output[-2000:]
    # settled: policy joints = the passthrough of measured positions, held joints at their default
    np.testing.assert_allclose(data[-1], settled, atol=1e-6)
    # ramped in: the first command of a held joint is near its measured position, not a jump to the default
    for name, default in final.items():
        column = data[:, joints.index(name)]
        measured = state.position[name]
        assert abs(column[0] - measured) < abs(default - measured) * 0.5, (name, column[:5], measured, default)
        assert np.max(np.abs(np.diff(column))) < abs(default - measured) * 0.5, (name, column[:8])  # no jump
    assert "Held joints" in output and "whole robot" in output, output[-3000:]
    np.testing.assert_allclose(np.asarray(gains[0].data)[-3:], [50.0, 20.0, 3.0])


def test_report_lists_joints_read_but_not_commanded_until_they_are_held(tmp_path):
    from binding_helpers import G1_JOINTS, write_g1_like_bundle
    bundle = load_bundle(write_g1_like_bundle(tmp_path / "g1"))
    plan = compile_plan(bundle)
    driven = set(plan.outputs.targets[0].joints)
    free = [j for j in G1_JOINTS if j not in driven]
    assert binding_plan_dict(plan)["uncommanded_joints"] == free and len(free) == 15
    assert f"held_joints.{free[0]}.position: <rad>" in format_binding_plan(plan)
    params = {f"held_joints.{j}.{f}": v for j in free for f, v in (("position", 0.0), ("kp", 20.0), ("kd", 1.0))}
    held = compile_plan(bundle, BindingSettings.from_params(params))
    assert binding_plan_dict(held)["uncommanded_joints"] == []
    assert set(held.outputs.targets[0].joints) == set(G1_JOINTS)
