"""The rclpy deploy node (`python -m leapp_ros.node.main`, the `deploy` entry point) through its real ROS 2
interfaces, driven by an rclpy client in this process: lifecycle services, parameter services (list, describe,
set with validation, get-all as `ros2 param dump` does), the ~/estop and ~/reset services, and a clean stop on
SIGINT/SIGTERM (the safe command published, exit 0) for the node, `leapp-ros run --transport rclpy` and the sim."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from binding_helpers import JOINTS_12, write_passthrough_bundle
from node_helpers import REPO_ROOT, ROS_LOG_ENV, FakeRobot, Received, rclpy_or_skip, start_node, stop_node, wait_for
from transport_helpers import dds_env  # noqa: F401 - module fixture: loopback CYCLONEDDS_URI + unique domain

pytestmark = [pytest.mark.timeout(120), pytest.mark.transport("rclpy")]
NODE = "/leapp_deploy"
F64 = "std_msgs/msg/Float64MultiArray"
SAFETY_PASSTHROUGH = {"safety.ramp_in_duration_s": 0.0, "safety.ramp_in_velocity_cap": 1.0e6}


class RosClient:
    """An rclpy node in this process, spun on a thread, with a blocking service call."""

    def __init__(self) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.signals import SignalHandlerOptions

        self.rclpy = rclpy
        self.context = rclpy.Context()
        rclpy.init(args=[], context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node("leapp_test_client", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()
        self._clients: dict[str, Any] = {}

    def call(self, name: str, srv_type: type, timeout: float = 20.0, **fields: Any) -> Any:
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = self.node.create_client(srv_type, name)
        assert client.wait_for_service(timeout_sec=timeout), f"service {name} not available"
        request = srv_type.Request(**fields)
        future = client.call_async(request)
        done = threading.Event()
        future.add_done_callback(lambda _f: done.set())
        assert done.wait(timeout), f"service {name}: no response within {timeout} s"
        return future.result()

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.rclpy.shutdown(context=self.context)


@pytest.fixture(scope="module")
def client(dds_env) -> Iterator[RosClient]:  # noqa: F811 - dds_env: the domain and loopback discovery
    rclpy_or_skip()
    ros = RosClient()
    yield ros
    ros.close()


@pytest.fixture
def robot(dds_env) -> Iterator[FakeRobot]:  # noqa: F811
    robot = FakeRobot("rclpy_test_robot")
    yield robot
    robot.close()


def _publish_inputs(robot: FakeRobot, position: dict[str, float]) -> None:
    names = list(reversed(JOINTS_12))
    robot.publish_periodically("joint_states", "sensor_msgs/msg/JointState", lambda: robot.new(
        "sensor_msgs/msg/JointState", name=names, position=[position[n] for n in names], velocity=[0.0] * 12))
    robot.publish_periodically("imu/data", "sensor_msgs/msg/Imu", lambda: robot.new("sensor_msgs/msg/Imu"))
    robot.start(rate_hz=100.0)


def _state(client: RosClient) -> str:
    from lifecycle_msgs.srv import GetState
    return client.call(f"{NODE}/get_state", GetState).current_state.label


def _transition(client: RosClient, label: str) -> bool:
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState
    ids = {"configure": Transition.TRANSITION_CONFIGURE, "activate": Transition.TRANSITION_ACTIVATE,
           "deactivate": Transition.TRANSITION_DEACTIVATE, "cleanup": Transition.TRANSITION_CLEANUP,
           "shutdown": Transition.TRANSITION_UNCONFIGURED_SHUTDOWN}
    return client.call(f"{NODE}/change_state", ChangeState, transition=Transition(id=ids[label])).success


def test_lifecycle_services_drive_the_node(client, robot, dds_env, tmp_path):  # noqa: F811
    from rcl_interfaces.msg import Log

    path, _ = write_passthrough_bundle(tmp_path)
    targets = robot.collect("joint_commands", F64)
    rosout: list[Any] = []
    subscription = client.node.create_subscription(Log, "/rosout", rosout.append, 100)
    node = start_node(path, dds_env, "--no-activate", params=SAFETY_PASSTHROUGH, transport="rclpy")
    try:
        assert _state(client) == "unconfigured"
        assert _transition(client, "configure") and _state(client) == "inactive"
        # the product's Python loggers reach /rosout through the node's ROS logger
        assert wait_for(lambda: any(m.name == "leapp_deploy.node" and "configured bundle" in m.msg
                                    for m in list(rosout)), timeout=10), sorted({m.name for m in rosout})
        assert not _transition(client, "activate"), "activation must wait for the required inputs"
        assert _state(client) == "inactive"
        _publish_inputs(robot, {j: 0.1 * i for i, j in enumerate(JOINTS_12)})
        assert wait_for(lambda: _transition(client, "activate"), timeout=10, interval=0.3)
        assert _state(client) == "active"
        # without autostart the safety machine waits for ~/enable (std_msgs/Bool) before it drives the robot
        robot.publish("leapp_deploy/enable", "std_msgs/msg/Bool", robot.new("std_msgs/msg/Bool", data=True))
        assert wait_for(lambda: len(targets.snapshot()) >= 5, timeout=10)
        assert _transition(client, "deactivate") and _state(client) == "inactive"
        count = len(targets.snapshot())
        time.sleep(0.3)
        assert len(targets.snapshot()) <= count + 1  # inactive: nothing more (one tick may be in flight)
        assert _transition(client, "cleanup") and _state(client) == "unconfigured"
        assert _transition(client, "shutdown") and _state(client) == "finalized"
    finally:
        code, output = stop_node(node)
        client.node.destroy_subscription(subscription)
    assert code == 0 and "Traceback" not in output, output


def test_parameter_services_list_describe_set_and_dump(client, dds_env, tmp_path):  # noqa: F811
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import DescribeParameters, GetParameters, ListParameters, SetParameters

    path, _ = write_passthrough_bundle(tmp_path)
    node = start_node(path, dds_env, "--no-activate", transport="rclpy")
    try:
        names = list(client.call(f"{NODE}/list_parameters", ListParameters).result.names)
        for name in ("bundle", "command_joints", "start_type_description_service", "use_sim_time",
                     "safety.ramp_in_duration_s", "safety.estop_command", f"ports.{_a_port(path)}.topic",
                     f"joint_limits.{JOINTS_12[0]}.lower", "imu.qos"):
            assert name in names, f"{name} not listed"
        described = client.call(f"{NODE}/describe_parameters", DescribeParameters,
                                names=["command_joints", "estop.topic", "rate_hz"]).descriptors
        assert [d.type for d in described] == [ParameterType.PARAMETER_STRING_ARRAY, ParameterType.PARAMETER_STRING,
                                               ParameterType.PARAMETER_DOUBLE]
        assert described[1].read_only and not described[2].read_only
        assert "next configure" in described[2].description and described[0].description
        # `ros2 param dump`: list + get every value; none may be uninitialized
        values = client.call(f"{NODE}/get_parameters", GetParameters, names=names).values
        unset = [n for n, v in zip(names, values) if v.type == ParameterType.PARAMETER_NOT_SET]
        assert not unset, f"uninitialized parameters: {unset}"
        dump = dict(zip(names, values))
        assert dump["command_joints"].type == ParameterType.PARAMETER_STRING_ARRAY
        assert list(dump["command_joints"].string_array_value) == []
        assert math.isnan(dump[f"joint_limits.{JOINTS_12[0]}.lower"].double_value)

        def set_one(name: str, **value: Any) -> Any:
            parameter = Parameter(name=name, value=ParameterValue(**value))
            return client.call(f"{NODE}/set_parameters", SetParameters, parameters=[parameter]).results[0]
        double, string, integer = ParameterType.PARAMETER_DOUBLE, ParameterType.PARAMETER_STRING, \
            ParameterType.PARAMETER_INTEGER
        refused = [("rate_hz", dict(type=double, double_value=-5.0), "rate_hz"),
                   ("imu.qos", dict(type=string, string_value="bogus"), "imu.qos"),
                   ("tick_on", dict(type=string, string_value="sometimes"), "tick_on"),
                   ("safety.estop_command", dict(type=string, string_value="explode"), "estop_command"),
                   ("safety.recover_periods", dict(type=integer, integer_value=0), "recover_periods"),
                   (f"joint_limits.{JOINTS_12[0]}.velocity", dict(type=double, double_value=-1.0), JOINTS_12[0]),
                   ("estop.topic", dict(type=string, string_value="other"), "read-only"),
                   ("rate_hz", dict(type=string, string_value="fast"), "type")]
        for name, value, culprit in refused:
            result = set_one(name, **value)
            assert not result.successful and culprit in result.reason, (name, result.reason)
        accepted = set_one("rate_hz", type=double, double_value=100.0)
        assert accepted.successful, accepted.reason  # rclpy drops the reason of a success: the node logs it
        assert set_one("safety.ramp_in_duration_s", type=double, double_value=0.5).successful
        got = client.call(f"{NODE}/get_parameters", GetParameters, names=["rate_hz"]).values[0]
        assert got.double_value == 100.0
        assert _transition(client, "configure"), "the accepted values configure"
    finally:
        code, output = stop_node(node)
    assert code == 0 and "Traceback" not in output, output
    assert "parameters ['rate_hz'] set (takes effect at the next configure" in output, output


def _a_port(path) -> str:
    from leapp_ros.bundle import load_bundle
    return load_bundle(path).inputs[0].name


def test_estop_and_reset_services(client, robot, dds_env, tmp_path):  # noqa: F811
    from std_srvs.srv import SetBool, Trigger

    path, _ = write_passthrough_bundle(tmp_path)
    _publish_inputs(robot, {j: 0.05 * i for i, j in enumerate(JOINTS_12)})
    kp = robot.collect("joint_commands/kp", F64, latched=True)
    safety = robot.collect("leapp_deploy/safety_state", "std_msgs/msg/String", latched=True)
    node = start_node(path, dds_env, params=SAFETY_PASSTHROUGH, transport="rclpy")
    try:
        assert wait_for(lambda: any(m.data.startswith("ACTIVE") for m in safety.snapshot()), timeout=30)
        reset = client.call(f"{NODE}/reset", Trigger)
        assert reset.success and "reset" in reset.message
        response = client.call(f"{NODE}/estop", SetBool, data=True)
        assert response.success and "asserted" in response.message
        assert wait_for(lambda: safety.snapshot()[-1].data.startswith("ESTOP"), timeout=5)
        assert wait_for(lambda: np.all(np.asarray(kp.snapshot()[-1].data) == 0.0), timeout=5)
        released = client.call(f"{NODE}/estop", SetBool, data=False)
        assert released.success and "until ~/enable" in released.message
        time.sleep(0.3)
        assert safety.snapshot()[-1].data.startswith("ESTOP"), "the e-stop stays latched after release"
    finally:
        code, output = stop_node(node)
    assert code == 0 and "Traceback" not in output, output


@pytest.mark.parametrize("sig, executor", [(signal.SIGINT, ""), (signal.SIGTERM, ""), (signal.SIGINT, "single")],
                         ids=["SIGINT", "SIGTERM", "SIGINT-single-threaded-executor"])
def test_signal_publishes_the_safe_command_and_exits_0(robot, dds_env, tmp_path, sig, executor,  # noqa: F811
                                                       monkeypatch):
    rclpy_or_skip()
    monkeypatch.setenv("LEAPP_ROS_EXECUTOR", executor)  # "" = the default (EventsExecutor where rclpy has it)
    path, _ = write_passthrough_bundle(tmp_path)
    _publish_inputs(robot, {j: -0.02 * i for i, j in enumerate(JOINTS_12)})
    targets = robot.collect("joint_commands", F64)
    kp = robot.collect("joint_commands/kp", F64, latched=True)
    state = robot.collect("leapp_deploy/state", "std_msgs/msg/String", latched=True)
    node = start_node(path, dds_env, params={**SAFETY_PASSTHROUGH, "safety.damping_kd": 3.0}, transport="rclpy")
    try:
        assert wait_for(lambda: len(targets.snapshot()) >= 10, timeout=30)
        assert np.all(np.asarray(kp.snapshot()[-1].data) > 0)
    finally:
        node.send_signal(sig)
        code, output = stop_node(node)
    assert code == 0, output
    assert "Traceback" not in output and "context is invalid" not in output, output
    assert np.all(np.asarray(kp.snapshot()[-1].data) == 0.0), "the damping command (kp 0) arrived"
    assert wait_for(lambda: state.snapshot()[-1].data == "finalized", timeout=5)
    assert "(shutdown" in output, output


def test_leapp_ros_run_rclpy_stops_cleanly_on_sigint(robot, dds_env, tmp_path):  # noqa: F811
    rclpy_or_skip()
    path, _ = write_passthrough_bundle(tmp_path)
    _publish_inputs(robot, {j: 0.0 for j in JOINTS_12})
    kp = robot.collect("joint_commands/kp", F64, latched=True)
    targets = robot.collect("joint_commands", F64)
    command = [sys.executable, "-m", "leapp_ros.node.run_cli", str(path), "--transport", "rclpy",
               "--param", "safety.ramp_in_duration_s:=0.0", "--param", "base_frame:=base",
               "--param", "safety.allow_no_joint_limits:=true"]
    node = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **ROS_LOG_ENV, **dds_env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: len(targets.snapshot()) >= 5, timeout=30)
    finally:
        code, output = stop_node(node)
    assert code == 0 and "Traceback" not in output, output
    assert "remap" not in output.lower(), "leapp-ros run's own options must not reach rcl as ROS arguments"
    assert np.all(np.asarray(kp.snapshot()[-1].data) == 0.0)
    assert "[leapp_deploy" in output, "product loggers go through ROS logging"


def test_sim_over_rclpy_stops_cleanly_on_sigint(dds_env):  # noqa: F811
    rclpy_or_skip()
    pytest.importorskip("mujoco")
    config = REPO_ROOT / "examples" / "reach_arm" / "sim.yaml"
    from leapp_ros.transport import SENSOR_DATA
    listener = FakeRobot("sim_listener")
    states = Received()
    listener.transport.create_subscription("joint_states", "sensor_msgs/msg/JointState", SENSOR_DATA, states.add)
    sim = subprocess.Popen([sys.executable, "-m", "leapp_ros.sim.cli", str(config), "--transport", "rclpy"],
                           cwd=REPO_ROOT, env={**os.environ, **ROS_LOG_ENV, **dds_env},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: len(states.snapshot()) >= 5, timeout=30)
    finally:
        code, output = stop_node(sim)
        listener.close()
    assert code == 0 and "Traceback" not in output, output


def test_params_file_with_wildcard_key_applies_under_a_namespace(client, dds_env, tmp_path):  # noqa: F811
    """config/deploy.yaml's `/**:` key matches the node under any namespace; ints given for doubles
    (`rate_hz: 100`) are taken as doubles; rclpy's own parameters in the file are tolerated."""
    from rcl_interfaces.srv import GetParameters

    path, _ = write_passthrough_bundle(tmp_path)
    params = tmp_path / "deploy.yaml"
    params.write_text((REPO_ROOT / "config" / "deploy.yaml").read_text().replace(
        "rate_hz: 0.0", "rate_hz: 100").replace("base_frame: base_link", "base_frame: trunk")
        + "    start_type_description_service: false\n")
    command = [sys.executable, "-m", "leapp_ros.node.main", "--ros-args", "-r", "__ns:=/robot1",
               "--params-file", str(params), "-p", f"bundle:={path}", "-p", "safety.allow_no_joint_limits:=true"]
    node = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **ROS_LOG_ENV, **dds_env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        values = client.call("/robot1/leapp_deploy/get_parameters", GetParameters,
                             names=["base_frame", "rate_hz", "safety.estop_command"]).values
        assert (values[0].string_value, values[1].double_value, values[2].string_value) == ("trunk", 100.0, "damp")
        from lifecycle_msgs.msg import Transition
        from lifecycle_msgs.srv import ChangeState
        assert client.call("/robot1/leapp_deploy/change_state", ChangeState,
                           transition=Transition(id=Transition.TRANSITION_CONFIGURE)).success
    finally:
        code, output = stop_node(node)
    assert code == 0 and "Traceback" not in output, output
