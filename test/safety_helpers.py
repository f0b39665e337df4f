"""Helpers for the safety tests: a small supervisor, a tick driver, URDF text and bundle corruption tools."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from leapp_ros.safety import JointLimit, JointLimits, PolicyAction, SafetyConfig, SafetySupervisor, WatchedInput

JOINTS = ("hip", "knee", "wheel")
RATE_HZ = 100.0
PERIOD = 1.0 / RATE_HZ
LOWER = np.array([-1.0, -2.0, -np.inf])
UPPER = np.array([1.0, 0.5, np.inf])
VELOCITY = np.array([2.0, 3.0, 10.0])
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BUNDLES = SHARED / "fixtures" / "bundles"

URDF = """<?xml version="1.0"?>
<robot name="toy">
  <link name="base"/><link name="thigh"/><link name="shank"/><link name="rim"/><link name="tip"/>
  <joint name="hip" type="revolute"><parent link="base"/><child link="thigh"/>
    <limit lower="-1.0" upper="1.0" velocity="2.0" effort="40"/></joint>
  <joint name="knee" type="revolute"><parent link="thigh"/><child link="shank"/>
    <limit lower="-2.5" upper="0.8" velocity="3.0" effort="40"/>
    <safety_controller soft_lower_limit="-2.0" soft_upper_limit="0.5" k_position="10" k_velocity="1"/></joint>
  <joint name="wheel" type="continuous"><parent link="shank"/><child link="rim"/>
    <limit velocity="10" effort="5"/></joint>
  <joint name="tip_fixed" type="fixed"><parent link="rim"/><child link="tip"/></joint>
</robot>
"""


def toy_limits() -> JointLimits:
    return JointLimits([JointLimit(n, lo, up, v, continuous=not np.isfinite(up), source="test")
                        for n, lo, up, v in zip(JOINTS, LOWER, UPPER, VELOCITY)])


class Arrivals:
    """The input-ledger contract safety reads (`leapp_ros.safety.InputLedger`), driven by hand: the node's real
    ledger is `leapp_ros.binding.InputPlan` (tested in test_binding_decode and end to end)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.arrived = np.full(len(names), -np.inf)
        self.ages_s = np.full(len(names), np.inf)
        self.rejected_total = 0
        self.last_rejection: tuple[int, str] | None = None

    def mark(self, name: str, now_s: float) -> None:
        self.arrived[self.names.index(name)] = now_s

    def reject(self, name: str, reason: str) -> None:
        self.rejected_total += 1
        self.last_rejection = (self.names.index(name), reason)

    def snapshot(self, now_s: float) -> None:
        np.subtract(now_s, self.arrived, out=self.ages_s)

    def forget(self) -> None:
        self.arrived.fill(-np.inf)


def make_supervisor(**overrides: Any) -> SafetySupervisor:
    """3 joints at 100 Hz watching a required 'joint_states' and 'imu' and an optional 'cmd_vel'. The stale floor
    is off unless given, so that staleness is judged in periods alone (3 = 30 ms)."""
    settings = dict(ramp_in_duration_s=0.1, ramp_in_velocity_cap=5.0, recover_periods=3, stale_floor_ms=0.0)
    limits = overrides.pop("limits", None) or toy_limits()
    settings.update(overrides)
    inputs = [WatchedInput("joint_states"), WatchedInput("imu"), WatchedInput("cmd_vel", False)]
    ledger = Arrivals([i.name for i in inputs])
    return SafetySupervisor(JOINTS, limits, RATE_HZ, inputs, SafetyConfig(**settings), ledger=ledger)


class Driver:
    """Runs a supervisor tick by tick with fresh inputs, a policy callable and a measured pose."""

    def __init__(self, supervisor: SafetySupervisor, policy: Callable[[], np.ndarray | None] | None = None) -> None:
        self.sup = supervisor
        self.now = 10.0
        self.position = np.array([0.1, -0.5, 0.0])
        self.velocity = np.zeros(3)
        self.policy = policy or (lambda: np.array([0.2, -0.4, 1.0]))
        self.fresh = {"joint_states": True, "imu": True, "cmd_vel": True}
        self.resets = 0
        self.policy_runs = 0
        self.kp = np.full(3, 20.0)
        self.kd = np.full(3, 0.5)

    def tick(self, missed: bool = False) -> dict[str, Any] | None:
        ledger = self.sup.watchdog.ledger
        if self.now < getattr(self, "_last_now", -np.inf):
            ledger.forget()  # the real ledger forgets arrivals when the clock goes back
        self._last_now = self.now
        for name, fresh in self.fresh.items():
            if fresh:
                ledger.mark(name, self.now)
        ledger.snapshot(self.now)
        action = self.sup.begin_tick(self.now, self.position, self.velocity, missed)
        targets = None
        if action is not PolicyAction.SKIP:
            self.resets += action is PolicyAction.RESET_AND_RUN
            self.policy_runs += 1
            targets = self.policy()
        cmd = self.sup.end_tick(targets, None if targets is None else self.kp,
                                None if targets is None else self.kd)
        self.now += PERIOD
        if cmd is None:
            return None
        return {"mode": cmd.mode.value, **cmd.copy_arrays()}

    def run(self, ticks: int, **kwargs: Any) -> list[dict[str, Any] | None]:
        return [self.tick(**kwargs) for _ in range(ticks)]

    def activate(self, max_ticks: int = 200) -> None:
        """Enable and tick until ACTIVE."""
        self.sup.enable()
        for _ in range(max_ticks):
            self.tick()
            if self.sup.state.value == "ACTIVE":
                return
        raise AssertionError(f"never reached ACTIVE: {self.sup.state_text()}")


# ---------------------------------------------------------------- bundle corruption (corpus tests)
def copy_bundle(name: str, tmp_path: Path) -> Path:
    """A writable copy of a shared fixture bundle; returns its directory."""
    source = BUNDLES / name
    target = tmp_path / name
    shutil.copytree(source, target)
    for path in [target, *target.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def bundle_yaml(directory: Path) -> Path:
    return next(p for p in directory.iterdir() if p.suffix == ".yaml")


def edit_yaml(directory: Path, edit: Callable[[dict], None]) -> None:
    path = bundle_yaml(directory)
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def only_node(data: dict) -> dict:
    return next(iter(data["models"].values()))


def port(data: dict, direction: str, name: str) -> dict:
    return next(p for p in only_node(data)[direction] if p["name"] == name)


# ---------------------------------------------------------------- a deliberately bad policy (DDS fault tests)
BAD_GAIN = 10.0  # rad of LF_HAA offset per m/s of cmd_vel.linear.y


def bad_policy_bundle(tmp_path: Path) -> Path:
    """anymal_like_flat whose joint_pos output is corrupted on command, through cmd_vel.linear.y (= y):

    LF_HAA target += BAD_GAIN * y (out-of-limit targets on demand), and every target += 0 * sqrt(y), which is
    NaN for y < 0 (non-finite targets on demand). y = 0 (or a timed-out command) leaves the policy intact.
    """
    import hashlib

    import onnx
    from onnx import TensorProto, helper

    directory = copy_bundle("anymal_like_flat", tmp_path)
    model_path = directory / "Isaac-Velocity-Flat-Anymal-D.onnx"
    model = onnx.load(str(model_path))
    graph = model.graph
    for node in graph.node:  # rename the producer of joint_pos; the graph output keeps its name
        node.output[:] = ["joint_pos_policy" if o == "joint_pos" else o for o in node.output]
    mask = np.zeros((1, 12), np.float32)
    mask[0, 0] = BAD_GAIN
    graph.initializer.extend([
        helper.make_tensor("bad_mask", TensorProto.FLOAT, [1, 12], mask.ravel().tolist()),
        helper.make_tensor("bad_start", TensorProto.INT64, [1], [1]),
        helper.make_tensor("bad_end", TensorProto.INT64, [1], [2]),
        helper.make_tensor("bad_axis", TensorProto.INT64, [1], [1]),
        helper.make_tensor("bad_zero", TensorProto.FLOAT, [], [0.0]),
    ])
    graph.node.extend([
        helper.make_node("Slice", ["base_velocity", "bad_start", "bad_end", "bad_axis"], ["bad_y"]),
        helper.make_node("Mul", ["bad_y", "bad_mask"], ["bad_offset"]),
        helper.make_node("Sqrt", ["bad_y"], ["bad_sqrt"]),
        helper.make_node("Mul", ["bad_sqrt", "bad_zero"], ["bad_nan"]),
        helper.make_node("Add", ["joint_pos_policy", "bad_offset"], ["bad_sum"]),
        helper.make_node("Add", ["bad_sum", "bad_nan"], ["joint_pos"]),
    ])
    onnx.checker.check_model(model)
    onnx.save(model, str(model_path))
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    edit_yaml(directory, lambda y: only_node(y)["parameters"].__setitem__("sha256sum", digest))
    return directory


# ---------------------------------------------------------------- DDS fault harness: node process + fake robot
ANYMAL_JOINTS = ("LF_HAA", "LH_HAA", "RF_HAA", "RH_HAA", "LF_HFE", "LH_HFE", "RF_HFE", "RH_HFE",
                 "LF_KFE", "LH_KFE", "RF_KFE", "RH_KFE")
POSITION_LIMIT = 1.5
VELOCITY_LIMIT = 10.0
NODE_PARAMETERS = {
    "diagnostics_period_s": 0.1,
    "command_timeout_s": 0.3,
    "safety": {"ramp_in_duration_s": 0.2, "ramp_in_velocity_cap": 5.0, "recover_periods": 5, "stale_periods": 5,
               "stale_floor_ms": 100.0,  # 5 periods at 50 Hz: the fault tests count ticks to the HOLD
               "limit_margin": 0.1, "damping_kd": 3.0},
    "joint_limits": {j: {"lower": -POSITION_LIMIT, "upper": POSITION_LIMIT, "velocity": VELOCITY_LIMIT}
                     for j in ANYMAL_JOINTS},
}


class NodeProcess:
    """The deploy node in its own process, stopped with SIGINT: `leapp-ros run` on DDS, or the rclpy lifecycle
    node with autostart (`transport="rclpy"`)."""

    def __init__(self, bundle: Path, params_file: Path, env: dict[str, str], *extra: str,
                 transport: str = "dds") -> None:
        import subprocess

        from node_helpers import ROS_LOG_ENV, node_command
        self.log_path = params_file.with_suffix(f".{transport}.log")
        self._log = self.log_path.open("w")
        command = node_command(transport, bundle, "--params-file", str(params_file), *extra,
                               duration=0.0)  # runs until stopped
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                        env={**__import__("os").environ, **ROS_LOG_ENV, **env})
        import atexit
        atexit.register(self._kill_if_running)  # never leave a node behind, even on an interrupted run

    def _kill_if_running(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    def stop(self, timeout: float = 15.0) -> int:
        import signal
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            rc = self.process.wait(timeout)
        except Exception:  # noqa: BLE001 - hung node: kill it and report
            self.process.kill()
            rc = self.process.wait(5)
        self._log.close()
        return rc

    def output(self) -> str:
        return self.log_path.read_text()


def write_params_file(path: Path, params: dict[str, Any], node_name: str = "leapp_deploy") -> Path:
    path.write_text(yaml.safe_dump({node_name: {"ros__parameters": params}}))
    return path


# ---------------------------------------------------------------- a hostile policy on command (runtime fault matrix)
HOSTILE_KD_JOINTS = 6  # the kd output covers the first 6 of the 12 joints
RAISE_ABOVE = 50.0  # cmd_vel.linear.x > this: ONNX Runtime raises (a Gather out of bounds) on every tick
SLOW_BELOW = -50.0  # cmd_vel.linear.x = SLOW_BELOW - n: a Loop of n 512x512 matmuls (seconds of inference)
NEGATIVE_KP_ABOVE = 50.0  # cmd_vel.angular.z > this: kp = kp - 1000 (negative stiffness)
# cmd_vel.angular.z < 0: the 6-joint kd output is NaN


def hostile_policy_bundle(tmp_path: Path) -> Path:
    """anymal_like_flat turned hostile on command through base_velocity [x, y, wz] (all built from real ONNX ops):
    an engine error, seconds-long inference, negative kp, NaN on a kd output that covers 6 of the 12 joints.
    x = wz = 0 (or a timed-out command) leaves the policy intact; y still feeds the network (1e30 -> huge targets)."""
    import hashlib

    import onnx
    from onnx import TensorProto, helper

    directory = copy_bundle("anymal_like_flat", tmp_path)
    model_path = directory / "Isaac-Velocity-Flat-Anymal-D.onnx"
    model = onnx.load(str(model_path))
    graph = model.graph
    renamed = {"joint_pos": "h_pos_policy", "joint_pos_kp_gains": "h_kp_policy", "joint_pos_kd_gains": "h_kd_policy"}
    for node in graph.node:
        node.output[:] = [renamed.get(o, o) for o in node.output]
    for initializer in graph.initializer:  # the fixture's gains are constants (initializers named like the outputs)
        initializer.name = renamed.get(initializer.name, initializer.name)
    for output in graph.output:
        if output.name == "joint_pos_kd_gains":
            output.type.tensor_type.shape.dim[1].dim_value = HOSTILE_KD_JOINTS
    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    rng = np.random.default_rng(7)
    weights = (rng.standard_normal((512, 512)) / 512 ** 0.5).astype(np.float32)
    graph.initializer.extend([
        helper.make_tensor(name, i64, [1], [v]) for name, v in
        (("h_0", 0), ("h_1", 1), ("h_2", 2), ("h_3", 3), ("h_6", HOSTILE_KD_JOINTS), ("h_100", 100))])
    graph.initializer.append(helper.make_tensor("h_identity", i64, [12], list(range(12))))
    graph.initializer.extend([
        helper.make_tensor("h_raise_above", f32, [], [RAISE_ABOVE]),
        helper.make_tensor("h_slow_below", f32, [], [-SLOW_BELOW]),
        helper.make_tensor("h_kp_above", f32, [], [NEGATIVE_KP_ABOVE]),
        helper.make_tensor("h_kp_drop", f32, [], [1000.0]),
        helper.make_tensor("h_zero", f32, [], [0.0]),
        helper.make_tensor("h_milli", f32, [], [1e-3]),
        helper.make_tensor("h_scalar", i64, [0], []),
        helper.make_tensor("h_w", f32, [512, 512], weights.ravel().tolist()),
    ])
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("MatMul", ["s_in", "h_w"], ["s_mm"]),
         helper.make_node("Tanh", ["s_mm"], ["s_out"])],
        "slow_body",
        [helper.make_tensor_value_info("iter", i64, []), helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("s_in", f32, [512, 512])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("s_out", f32, [512, 512])])
    n = helper.make_node
    graph.node.extend([
        n("Slice", ["base_velocity", "h_0", "h_1", "h_1"], ["h_x"]),
        n("Slice", ["base_velocity", "h_2", "h_3", "h_1"], ["h_wz"]),
        # x > RAISE_ABOVE: a Gather of the targets with indices 100 beyond the end fails inside ONNX Runtime
        n("Greater", ["h_x", "h_raise_above"], ["h_raise"]),
        n("Cast", ["h_raise"], ["h_raise_i"], to=i64),
        n("Reshape", ["h_raise_i", "h_1"], ["h_raise_1"]),
        n("Mul", ["h_raise_1", "h_100"], ["h_shift"]),
        n("Add", ["h_identity", "h_shift"], ["h_indices"]),
        # x < SLOW_BELOW: a Loop of (-x - |SLOW_BELOW|) matmuls
        n("Neg", ["h_x"], ["h_negx"]),
        n("Sub", ["h_negx", "h_slow_below"], ["h_excess"]),
        n("Relu", ["h_excess"], ["h_trips_f"]),
        n("Cast", ["h_trips_f"], ["h_trips_i"], to=i64),
        n("Reshape", ["h_trips_i", "h_scalar"], ["h_trips"]),
        n("Loop", ["h_trips", "", "h_w"], ["h_slow_state"], body=body),
        n("ReduceSum", ["h_slow_state"], ["h_slow_sum"], keepdims=0),
        n("Mul", ["h_slow_sum", "h_zero"], ["h_slow_zero"]),
        n("Add", ["h_pos_policy", "h_slow_zero"], ["h_pos_slow"]),
        n("Gather", ["h_pos_slow", "h_indices"], ["joint_pos"], axis=1),
        # wz > NEGATIVE_KP_ABOVE: kp - 1000
        n("Greater", ["h_wz", "h_kp_above"], ["h_neg"]),
        n("Cast", ["h_neg"], ["h_neg_f"], to=f32),
        n("Mul", ["h_neg_f", "h_kp_drop"], ["h_kp_minus"]),
        n("Sub", ["h_kp_policy", "h_kp_minus"], ["joint_pos_kp_gains"]),
        # kd of 6 joints, time-varying (+ 1e-3 |wz|), NaN for wz < 0 (0 * sqrt(wz))
        n("Slice", ["h_kd_policy", "h_0", "h_6", "h_1"], ["h_kd6"]),
        n("Abs", ["h_wz"], ["h_abs_wz"]),
        n("Mul", ["h_abs_wz", "h_milli"], ["h_kd_vary"]),
        n("Sqrt", ["h_wz"], ["h_sqrt_wz"]),
        n("Mul", ["h_sqrt_wz", "h_zero"], ["h_kd_nan"]),
        n("Add", ["h_kd6", "h_kd_vary"], ["h_kd_sum"]),
        n("Add", ["h_kd_sum", "h_kd_nan"], ["joint_pos_kd_gains"]),
    ])
    onnx.checker.check_model(model)
    onnx.save(model, str(model_path))
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()

    def edit(data: dict) -> None:
        only_node(data)["parameters"]["sha256sum"] = digest
        only_node(data)["parameters"]["md5sum"] = hashlib.md5(model_path.read_bytes()).hexdigest()
        kd = port(data, "outputs", "joint_pos_kd_gains")
        kd["shape"] = [1, HOSTILE_KD_JOINTS]
        kd["element_names"] = [list(ANYMAL_JOINTS[:HOSTILE_KD_JOINTS])]
    edit_yaml(directory, edit)
    return directory


def constant_gain_bundle(tmp_path: Path, kp: float) -> Path:
    """anymal_like_flat whose constant kp output (an initializer in the fixture) is `kp` for every joint."""
    import hashlib

    import onnx
    from onnx import numpy_helper

    directory = copy_bundle("anymal_like_flat", tmp_path)
    model_path = directory / "Isaac-Velocity-Flat-Anymal-D.onnx"
    model = onnx.load(str(model_path))
    for i, initializer in enumerate(model.graph.initializer):
        if initializer.name == "joint_pos_kp_gains":
            values = np.full(numpy_helper.to_array(initializer).shape, kp, np.float32)
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(values, initializer.name))
    onnx.save(model, str(model_path))
    data = model_path.read_bytes()

    def edit(document: dict) -> None:
        only_node(document)["parameters"]["sha256sum"] = hashlib.sha256(data).hexdigest()
        only_node(document)["parameters"]["md5sum"] = hashlib.md5(data).hexdigest()
    edit_yaml(directory, edit)
    return directory


# ---------------------------------------------------------------- the robot side of the DDS fault tests
ENABLE_TYPE = "std_msgs/msg/Bool"  # ~/enable: true requests activation (RAMP_IN), false deactivates


class Harness:
    """The fake robot, the e-stop and enable publishers, and the node's /diagnostics as a dict."""

    def __init__(self, transport: Any) -> None:  # the ANYmal-like fake robot at 100 Hz, with /clock
        from leapp_ros.bench.fake_robot import FakeRobot
        from leapp_ros.transport import DEFAULT

        self.transport = transport
        self.robot = FakeRobot(transport, ANYMAL_JOINTS, 100.0, publish_clock=True, keep=20_000)
        self.estop_pub = transport.create_publisher("/estop", "std_msgs/msg/Bool", DEFAULT)
        self.enable_pub = transport.create_publisher("/leapp_deploy/enable", ENABLE_TYPE, DEFAULT)
        self.diagnostics: dict[str, str] = {}
        self.diagnostic_level = 0  # of the node's status: 0 OK, 1 WARN, 2 ERROR
        self._lock = threading.Lock()
        transport.create_subscription("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", DEFAULT, self._on_diag)
        # every gain message as the actuators got it: (monotonic ns, values)
        self.gains: dict[str, list[tuple[int, np.ndarray]]] = {"kp": [], "kd": []}
        for which in self.gains:
            transport.create_subscription(f"/joint_commands/{which}", "std_msgs/msg/Float64MultiArray", DEFAULT,
                                          lambda m, w=which: self._on_gain(w, m))

    def _on_diag(self, msg: Any) -> None:
        with self._lock:
            self.diagnostics = {kv.key: kv.value for status in msg.status for kv in status.values}
            self.diagnostic_level = max((int.from_bytes(bytes(s.level), "little")
                                         if isinstance(s.level, (bytes, bytearray)) else int(s.level)
                                         for s in msg.status), default=0)

    def _on_gain(self, which: str, msg: Any) -> None:
        with self._lock:
            self.gains[which].append((time.monotonic_ns(), np.array(msg.data, dtype=np.float64)))

    def gains_since(self, which: str, t_ns: int) -> list[tuple[int, np.ndarray]]:
        with self._lock:
            return [g for g in self.gains[which] if g[0] >= t_ns]

    def diag(self, key: str) -> str | None:
        with self._lock:
            return self.diagnostics.get(key)

    def wait_state(self, state: str, timeout: float = 6.0, cause: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.diag("safety state") == state and (cause is None or self.diag("safety cause") == cause):
                return
            time.sleep(0.02)
        raise AssertionError(f"safety never reached {state} ({cause}): now {self.diag('safety state')} "
                             f"({self.diag('safety cause')}: {self.diag('safety detail')})")

    def clear_faults(self) -> None:
        from leapp_ros.bench.fake_robot import Faults
        self.robot.faults = Faults()
        self.robot.cmd_vel = (0.0, 0.0, 0.0)

    def ensure_active(self) -> None:
        """Clear faults, release the e-stop and enable until the node is ACTIVE again."""
        self.clear_faults()
        if self.diag("safety state") != "ACTIVE":
            self.estop_pub.publish(self.transport.new_message("std_msgs/msg/Bool", data=False))
            time.sleep(0.1)
            self.enable_pub.publish(self.transport.new_message(ENABLE_TYPE, data=True))
        self.wait_state("ACTIVE")
        time.sleep(0.15)

    def window(self, seconds: float) -> tuple[int, list[Any]]:
        """Commands received from now on for `seconds` (and the start time, monotonic ns)."""
        start = time.monotonic_ns()
        time.sleep(seconds)
        return start, self.robot.received.since(start)

    def published(self, key: str) -> int:
        return int((self.diag(key) or "0").split()[0])


