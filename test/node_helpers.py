"""Test helpers for the deploy node: a fake robot (DDS publisher of sensor topics, collector of commands) and a
node subprocess on either transport: `python -m leapp_ros.node.run_cli --transport dds` (loopback DDS) or the
rclpy lifecycle node `python -m leapp_ros.node.main` with autostart (the `deploy` entry point)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
EXTRA_JOINTS = ["gripper_finger", "head_pan", "lidar_spin"]
TRANSPORTS = ("dds", "rclpy")  # the node test matrix: every scenario runs on both
ROS_LOG_ENV = {"RCUTILS_LOGGING_BUFFERED_STREAM": "0", "RCUTILS_COLORIZED_OUTPUT": "0"}


def rclpy_or_skip() -> None:
    """Skip (with a printed reason) when the ROS 2 Python wheels are not installed."""
    import importlib.util

    import pytest
    if importlib.util.find_spec("rclpy") is None:
        reason = "rclpy is not importable (pip install -e .[ros], or source a ROS 2 setup)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)


def ros_value(value: Any) -> str:
    """A `-p name:=value` value as rcl parses it (YAML: true/false, [a, b], numbers as written)."""
    return json.dumps(value) if isinstance(value, (bool, list, tuple)) else str(value)


def node_command(transport: str, bundle: Path, *extra: str, params: dict[str, Any] | None = None,
                 duration: float = 60.0) -> list[str]:
    """The command line of the deploy node on `transport`. `extra` are `leapp-ros run` options (--rate HZ,
    --no-activate, --use-sim-time, --params-file FILE), translated to ROS arguments for the rclpy node."""
    if transport == "dds":
        command = [sys.executable, "-m", "leapp_ros.node.run_cli", str(bundle), "--transport", "dds",
                   "--discovery", "loopback", "--duration", str(duration), "--activate-timeout", "20", *extra]
        for name, value in (params or {}).items():
            command += ["--param", f"{name}:={value}"]
        return command
    assert transport == "rclpy", transport
    ros = ["--ros-args"]
    autostart = True
    options = list(extra)
    while options:
        option = options.pop(0)
        if option == "--rate":
            ros += ["-p", f"rate_hz:={float(options.pop(0))}"]
        elif option == "--no-activate":
            autostart = False  # the lifecycle node then waits unconfigured for the lifecycle services
        elif option == "--use-sim-time":
            ros += ["-p", "use_sim_time:=true"]
        elif option == "--params-file":
            ros += ["--params-file", options.pop(0)]
        else:
            raise AssertionError(f"node_command: no rclpy equivalent for {option!r}")
    ros += ["-p", f"bundle:={bundle}", "-p", f"autostart:={ros_value(autostart)}"]
    for name, value in (params or {}).items():
        ros += ["-p", f"{name}:={ros_value(value)}"]
    return [sys.executable, "-m", "leapp_ros.node.main", *ros]


def start_node(bundle: Path, env: dict[str, str], *extra: str, params: dict[str, Any] | None = None,
               duration: float = 60.0, transport: str = "dds") -> subprocess.Popen:
    """The deploy node as a second process on `transport` (loopback discovery); stop it with `stop_node`."""
    # The fake robot has no URDF: run on the opt-out, with the step bound wide open so the published targets
    # equal the policy's (these tests check bindings and values; the safety tests check the bounds).
    params = {"safety.allow_no_joint_limits": True, "safety.max_step_rad": 1.0e6, **(params or {})}
    command = node_command(transport, bundle, *extra, params=params, duration=duration)
    return subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **ROS_LOG_ENV, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_lines_until(process: subprocess.Popen, predicate: Callable[[str], bool], timeout: float) -> list[str]:
    """The node's output lines up to the first matching one (or up to `timeout` / the node's exit)."""
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if predicate(line):
                found.set()
                return
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    found.wait(timeout)
    return list(lines)


def stop_node(process: subprocess.Popen, timeout: float = 10.0) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return process.returncode, output


@dataclass
class Received:
    """Messages one subscription got, with receipt times (ns, monotonic)."""

    messages: list[Any] = field(default_factory=list)
    times_ns: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, msg: Any) -> None:
        with self.lock:
            self.messages.append(msg)
            self.times_ns.append(time.monotonic_ns())

    def snapshot(self) -> list[Any]:
        with self.lock:
            return list(self.messages)


class FakeRobot:
    """Publishes sensor/command topics the way a robot driver does and records what the node publishes."""

    def __init__(self, name: str = "fake_robot") -> None:
        from leapp_ros.transport import make_transport

        self.transport = make_transport("dds", name, "/", discovery="loopback")
        self._publishers: dict[str, Any] = {}
        self._messages: dict[str, Callable[[], Any]] = {}
        self.received: dict[str, Received] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def new(self, type_name: str, **fields: Any) -> Any:
        return self.transport.new_message(type_name, **fields)

    def publish_periodically(self, topic: str, type_name: str, make: Callable[[], Any]) -> None:
        from leapp_ros.transport import DEFAULT
        self._publishers[topic] = self.transport.create_publisher(topic, type_name, DEFAULT)
        self._messages[topic] = make

    def clear_periodic(self) -> None:
        """Stop publishing every periodic topic (a shared robot fixture then starts without inputs)."""
        self._messages.clear()

    def publish(self, topic: str, type_name: str, msg: Any) -> None:
        from leapp_ros.transport import DEFAULT
        if topic not in self._publishers:
            self._publishers[topic] = self.transport.create_publisher(topic, type_name, DEFAULT)
        self._publishers[topic].publish(msg)

    def collect(self, topic: str, type_name: str, latched: bool = False) -> Received:
        from leapp_ros.transport import DEFAULT, LATCHED
        received = Received()
        self.transport.create_subscription(topic, type_name, LATCHED if latched else DEFAULT, received.add)
        self.received[topic] = received
        return received

    def start(self, rate_hz: float = 100.0) -> None:
        def run() -> None:
            period = 1.0 / rate_hz
            deadline = time.monotonic()
            while not self._stop.is_set():
                stamp = self.transport.now_ns()
                for topic, make in list(self._messages.items()):
                    msg = make()
                    header = getattr(msg, "header", None)
                    if header is not None:
                        header.stamp.sec, header.stamp.nanosec = divmod(stamp, 1_000_000_000)
                    self._publishers[topic].publish(msg)
                deadline += period
                self._stop.wait(max(0.0, deadline - time.monotonic()))
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop_publishing(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)

    def close(self) -> None:
        self.stop_publishing()
        self.transport.shutdown()


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def align(received: list[np.ndarray], expected: list[np.ndarray], max_offset: int = 10,
          atol: float = 1e-6) -> int:
    """The offset k with received[i] == expected[i + k] for every i (the first messages may be missed while
    the subscription matches); raises AssertionError with the closest mismatch otherwise."""
    best = None
    for offset in range(max_offset + 1):
        count = min(len(received), len(expected) - offset)
        if count <= 0:
            break
        errors = [float(np.max(np.abs(received[i] - expected[i + offset]))) for i in range(count)]
        if max(errors) <= atol:
            return offset
        if best is None or max(errors) < best[1]:
            best = (offset, max(errors), int(np.argmax(errors)))
    raise AssertionError(f"published targets do not follow the engine's outputs: best offset {best}")


class RobotState:
    """Random but fixed robot readings, their messages, and what the bundle should see as input."""

    def __init__(self, rng: np.random.Generator, joints: list[str]) -> None:
        names = joints + EXTRA_JOINTS
        self.position = {n: float(v) for n, v in zip(names, rng.uniform(-1, 1, len(names)))}
        self.velocity = {n: float(v) for n, v in zip(names, rng.uniform(-2, 2, len(names)))}
        order = rng.permutation(len(names))
        self.names = [names[i] for i in order]  # shuffled, with extra joints
        q = rng.standard_normal(4)
        self.quat = tuple(float(v) for v in q / np.linalg.norm(q))  # x, y, z, w
        self.omega = tuple(float(v) for v in rng.uniform(-1, 1, 3))
        self.lin_vel = tuple(float(v) for v in rng.uniform(-1, 1, 3))
        self.twist = {"linear": tuple(float(v) for v in rng.uniform(-1, 1, 3)),
                      "angular": tuple(float(v) for v in rng.uniform(-1, 1, 3))}
        self.target_pos = tuple(float(v) for v in rng.uniform(-0.5, 0.5, 3))
        p = rng.standard_normal(4)
        self.target_quat = tuple(float(v) for v in p / np.linalg.norm(p))

    def install(self, robot: FakeRobot) -> None:
        new = robot.new

        def vec(v):
            return new("geometry_msgs/msg/Vector3", x=v[0], y=v[1], z=v[2])

        def quat(q):
            return new("geometry_msgs/msg/Quaternion", x=q[0], y=q[1], z=q[2], w=q[3])
        robot.publish_periodically("joint_states", "sensor_msgs/msg/JointState", lambda: new(
            "sensor_msgs/msg/JointState", name=self.names, position=[self.position[n] for n in self.names],
            velocity=[self.velocity[n] for n in self.names]))
        robot.publish_periodically("imu/data", "sensor_msgs/msg/Imu", lambda: new(
            "sensor_msgs/msg/Imu", orientation=quat(self.quat), angular_velocity=vec(self.omega)))
        robot.publish_periodically("odom", "nav_msgs/msg/Odometry", lambda: new(
            "nav_msgs/msg/Odometry", twist=new("geometry_msgs/msg/TwistWithCovariance", twist=new(
                "geometry_msgs/msg/Twist", linear=vec(self.lin_vel), angular=vec(self.omega)))))
        robot.publish_periodically("cmd_vel", "geometry_msgs/msg/Twist", lambda: new(
            "geometry_msgs/msg/Twist", linear=vec(self.twist["linear"]), angular=vec(self.twist["angular"])))
        robot.publish_periodically("target_pose", "geometry_msgs/msg/PoseStamped", lambda: new(
            "geometry_msgs/msg/PoseStamped", pose=new("geometry_msgs/msg/Pose", position=new(
                "geometry_msgs/msg/Point", x=self.target_pos[0], y=self.target_pos[1], z=self.target_pos[2]),
                orientation=quat(self.target_quat))))

    def bundle_input(self, port) -> np.ndarray:
        """The value a correct binding must feed `port` (computed here independently of leapp_ros.binding)."""
        names = list(port.last_axis_names)
        q = dict(zip("xyzw", self.quat))
        t = dict(zip("xyzw", self.target_quat))
        cmd = {"lin_vel_x": self.twist["linear"][0], "lin_vel_y": self.twist["linear"][1],
               "ang_vel_z": self.twist["angular"][2], "lin_x": self.twist["linear"][0],
               "lin_y": self.twist["linear"][1], "ang_z": self.twist["angular"][2]}
        kind = port.kind
        if kind == "state/joint/position":
            values = [self.position[n] for n in names]
        elif kind == "state/joint/velocity":
            values = [self.velocity[n] for n in names]
        elif kind == "state/body/rotation":
            values = [q[n[-1]] for n in names]  # qx -> x, w -> w
        elif kind == "state/body/angular_velocity":
            values = [dict(zip("xyz", self.omega))[n] for n in names]
        elif kind == "state/body/linear_velocity":
            values = [dict(zip("xyz", self.lin_vel))[n] for n in names]
        elif kind == "command/body/velocity":
            values = [cmd[n] for n in names]
        elif kind == "command/body/target_position":
            values = [dict(zip("xyz", self.target_pos))[n] for n in names]
        elif kind == "command/body/target_rotation":
            values = [t[n[-1]] for n in names]
        else:
            raise AssertionError(f"test does not know kind {kind}")
        return np.asarray(values, dtype=port.dtype).reshape(port.shape)


def expected_outputs(bundle, state: RobotState, ticks: int) -> list[dict[str, np.ndarray]]:
    from leapp_ros.engine import Engine

    feed = {p.key: state.bundle_input(p) for p in bundle.inputs}
    with Engine(bundle) as engine:
        return [{k: v.astype(np.float64).ravel() for k, v in engine.run(feed).items()} for _ in range(ticks)]


def joint_names(bundle) -> list[str]:
    names: list[str] = []
    for port in bundle.inputs:
        if port.kind and port.kind.startswith("state/joint"):
            names += [n for n in port.last_axis_names if n not in names]
    return names
