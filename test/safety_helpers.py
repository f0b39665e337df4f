"""Helpers for the safety tests: a small supervisor, a tick driver, URDF text and bundle corruption tools."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml

from leapp_ros.safety import (JointLimit, JointLimits, PolicyAction, SafetyConfig, SafetySupervisor,
                              WatchedInput)

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
    return JointLimits([JointLimit(n, lo, up, v, source="test") for n, lo, up, v in zip(JOINTS, LOWER, UPPER, VELOCITY)])


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
    settings.update(overrides)
    inputs = [WatchedInput("joint_states"), WatchedInput("imu"), WatchedInput("cmd_vel", False)]
    ledger = Arrivals([i.name for i in inputs])
    return SafetySupervisor(JOINTS, toy_limits(), RATE_HZ, inputs, SafetyConfig(**settings), ledger=ledger)


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
               "limit_margin": 0.1, "damping_kd": 3.0},
    "joint_limits": {j: {"lower": -POSITION_LIMIT, "upper": POSITION_LIMIT, "velocity": VELOCITY_LIMIT}
                     for j in ANYMAL_JOINTS},
}


class NodeProcess:
    """`leapp-ros run` (the node's DDS runner) in its own process, stopped with SIGINT."""

    def __init__(self, bundle: Path, params_file: Path, env: dict[str, str], *extra: str) -> None:
        import subprocess
        import sys
        self.log_path = params_file.with_suffix(".log")
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leapp_ros.node.run_cli", str(bundle), "--transport", "dds",
             "--discovery", "loopback", "--params-file", str(params_file), "--activate-timeout", "20", *extra],
            stdout=self._log, stderr=subprocess.STDOUT, env={**__import__("os").environ, **env})
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
