"""Runtime fault-injection matrix over real DDS, one scenario per class of runtime attack: a hostile policy (built at
test time from real ONNX ops) and hostile streams against the deploy node in its own process (`leapp-ros run` on
DDS, and the rclpy lifecycle node). Every scenario asserts what reached the actuator topics (targets and gains) and
the node's safety state."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import shared_path
from safety_helpers import (
    ANYMAL_JOINTS,
    ENABLE_TYPE,
    HOSTILE_KD_JOINTS,
    NEGATIVE_KP_ABOVE,
    NODE_PARAMETERS,
    POSITION_LIMIT,
    RAISE_ABOVE,
    SLOW_BELOW,
    Harness,
    NodeProcess,
    constant_gain_bundle,
    hostile_policy_bundle,
    write_params_file,
)
from transport_helpers import loopback_dds_environment

pytestmark = pytest.mark.timeout(400)

SLOW_INFERENCE_S = 3.0  # one slow tick blocks inference this long (calibrated on this machine at test time)
ESTOP_BOUND_S = 0.5  # e-stop -> the damping command at the robot while inference is blocked (was 4.39 s)
MAX_STEP = 0.5  # safety.max_step_rad of the node running without limits
JOINT_STATE = "sensor_msgs/msg/JointState"

# staleness is not tested here
RELAXED = {**NODE_PARAMETERS, "safety": {**NODE_PARAMETERS["safety"], "stale_periods": 10}}
PROFILES: dict[str, dict[str, Any]] = {
    # limits from the parameter file; a second publisher is a warning
    "limited": RELAXED,
    # no limits at all: the explicit opt-out, a tight step bound, and a second publisher holds
    "unlimited": {**{k: v for k, v in RELAXED.items() if k != "joint_limits"},
                  "safety": {**RELAXED["safety"], "allow_no_joint_limits": True, "max_step_rad": MAX_STEP,
                             "multiple_publishers": "hold"}},
    # event mode: the node ticks on every joint state (on its own thread, never the receiving one)
    "limited_event": {**RELAXED, "tick_on": "joint_states"},
}


class Bench:
    """The harness plus the node process of the profile the current scenario needs."""

    def __init__(self, h: Harness, bundle: Path, tmp: Path, env: dict[str, str], kind: str) -> None:
        self.h, self.bundle, self.tmp, self.env, self.kind = h, bundle, tmp, env, kind
        self.profile: str | None = None
        self.node: NodeProcess | None = None
        self.outputs: list[tuple[int, str]] = []  # (rc, log) of every node stopped

    def use(self, profile: str | None) -> Harness:
        if profile != self.profile:
            self.stop_node()
            self.profile = profile
            if profile is not None:
                settings = PROFILES[profile]
                if self.kind == "rclpy":  # see second_publisher_holds: the rclpy graph keeps departed Cyclone writers
                    settings = {**settings, "safety": {**settings["safety"], "multiple_publishers": "warn"}}
                params = write_params_file(self.tmp / f"{profile}.yaml", settings)
                self.h.diagnostics.clear()
                self.node = NodeProcess(self.bundle, params, self.env, transport=self.kind)
                self.h.wait_state("ACTIVE", timeout=40.0)
        return self.h

    def stop_node(self) -> None:
        if self.node is not None:
            rc = self.node.stop()
            self.outputs.append((rc, self.node.output()))
            self.node = None

    def log(self) -> str:
        assert self.node is not None
        return self.node.output()


@pytest.fixture(scope="module", params=["dds", "rclpy"])
def bench(request, tmp_path_factory) -> Iterator[Bench]:
    """The fake robot (DDS, this process) and the node on `request.param`."""
    shared_path("fixtures", "bundles", "anymal_like_flat")
    pytest.importorskip("onnx")
    if request.param == "rclpy":
        from node_helpers import rclpy_or_skip
        rclpy_or_skip()
    tmp = tmp_path_factory.mktemp(f"safety_runtime_{request.param}")
    bundle = hostile_policy_bundle(tmp)
    with loopback_dds_environment() as env:
        from leapp_ros.transport.dds import DdsTransport
        transport = DdsTransport("fake_robot", "/")
        h = Harness(transport)
        h.robot.start()
        b = Bench(h, bundle, tmp, env, request.param)
        try:
            yield b
        finally:
            b.stop_node()
            h.robot.stop()
            transport.shutdown()
            for rc, output in b.outputs:  # every node ended cleanly (SIGINT, also during a blocked inference)
                assert rc == 0, output[-3000:]
                assert "Traceback" not in output, output[-3000:]
            with h._lock:
                kp = [v for _, v in h.gains["kp"]]
                kd = [v for _, v in h.gains["kd"]]
            assert kp and kd or not b.outputs, "gains were published (by every node that ran)"
            assert all(np.isfinite(v).all() and (v >= 0).all() for v in kp + kd), "a bad gain reached the actuators"
            assert h.robot.received.non_finite == 0, "a non-finite target reached the actuators"


# ---------------------------------------------------------------- checks on what the actuators got
def assert_targets_sane(commands: list[Any], bound: float = POSITION_LIMIT) -> None:
    for c in commands:
        assert np.isfinite(c.position).all() and (np.abs(c.position) <= bound + 1e-9).all(), c.position


def assert_gains_sane(h: Harness, since_ns: int) -> None:
    for which in ("kp", "kd"):
        for _, values in h.gains_since(which, since_ns):
            assert np.isfinite(values).all() and (values >= 0).all(), (which, values)


def held(commands: list[Any], settle_s: float = 0.15) -> list[Any]:
    """The commands after the fault settled: all the same position (HOLD repeats the last safe targets)."""
    start = commands[0].received_ns + int(settle_s * 1e9) if commands else 0
    after = [c for c in commands if c.received_ns >= start]
    assert after, "HOLD must keep publishing"
    assert all(np.array_equal(c.position, after[0].position) for c in after)
    return after


def stays(h: Harness, state: str, seconds: float) -> None:
    time.sleep(seconds)
    assert h.diag("safety state") == state, f"{h.diag('safety state')}: {h.diag('safety detail')}"


def enable_back(h: Harness) -> None:
    """The documented recovery: the operator's enable, through RAMP_IN."""
    h.enable_pub.publish(h.transport.new_message(ENABLE_TYPE, data=True))
    h.wait_state("ACTIVE", timeout=10.0)  # generous: a loaded machine may drop an input for a moment meanwhile


# ---------------------------------------------------------------- scenarios
def nan_kd_on_6_of_12_joints(b: Bench) -> None:
    """A kd output covering 6 of the 12 joints turns NaN: HOLD before it is published, never NaN on the kd topic."""
    h = b.h
    h.ensure_active()
    kd_now = h.gains_since("kd", time.monotonic_ns() - int(1e9))
    assert kd_now and len(kd_now[-1][1]) == HOSTILE_KD_JOINTS, "the policy's own 6-joint kd is being published"
    h.robot.cmd_vel = (0.0, 0.0, -1.0)
    start, commands = h.window(0.5)
    h.wait_state("HOLD", cause="non_finite_output", timeout=1.0)
    assert "kd for joint 'LF_HAA' is nan" in h.diag("safety detail")
    assert_targets_sane(commands)
    assert_gains_sane(h, start)
    held(commands)
    h.clear_faults()
    stays(h, "HOLD", 0.3)  # a bad policy output waits for the operator
    enable_back(h)


def negative_kp(b: Bench) -> None:
    """kp = -960 from the policy: HOLD (gain_out_of_range); no negative stiffness is ever published."""
    h = b.h
    h.ensure_active()
    h.robot.cmd_vel = (0.0, 0.0, NEGATIVE_KP_ABOVE + 10.0)
    start, commands = h.window(0.5)
    h.wait_state("HOLD", cause="gain_out_of_range", timeout=1.0)
    assert "kp for joint 'LF_HAA' is -960" in h.diag("safety detail")
    assert_targets_sane(commands)
    assert_gains_sane(h, start)
    held(commands)
    h.clear_faults()
    stays(h, "HOLD", 0.3)
    enable_back(h)


def engine_raises_every_tick(b: Bench) -> None:
    """ONNX Runtime raises (not the product's error type) on every tick: HOLD engine_fault, logged once, recovered
    only by the operator's enable through RAMP_IN."""
    h = b.h
    h.ensure_active()
    h.robot.cmd_vel = (RAISE_ABOVE + 10.0, 0.0, 0.0)
    start, commands = h.window(1.0)  # ~50 failing ticks
    h.wait_state("HOLD", cause="engine_fault", timeout=1.0)
    assert "InvalidArgument" in h.diag("safety detail") and "InvalidArgument" in h.diag("engine faults")
    assert_targets_sane(commands)
    assert_gains_sane(h, start)
    held(commands)
    h.clear_faults()
    stays(h, "HOLD", 0.5)  # the policy works again, but an engine fault is not left by itself
    enable_back(h)
    log = b.log()
    assert log.count("inference failed (InvalidArgument") == 1, "logged once, not per tick"
    assert "Traceback" not in log and "tick failed" not in log
    assert "HOLD -> RAMP_IN (enable" in log.split("engine_fault")[-1]


def slow_inference_then_estop(b: Bench) -> None:
    """Inference blocks for seconds: the inference watchdog holds (and keeps commanding the robot), and an e-stop
    puts the damping command on the actuators within ESTOP_BOUND_S, not when the inference ends."""
    h = b.h
    h.ensure_active()
    h.robot.cmd_vel = (SLOW_BELOW - b.slow_trips, 0.0, 0.0)
    h.wait_state("HOLD", cause="inference_overrun", timeout=3.0)
    blocked_at = time.monotonic_ns()
    deadline = time.monotonic() + 2.0  # a few guard periods; waited for, not timed (a busy machine starves threads)
    while len(h.robot.received.since(blocked_at)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    keep_alive = h.robot.received.since(blocked_at)
    assert len(keep_alive) >= 3, "the guard keeps publishing the HOLD command while the tick is blocked"
    assert_targets_sane(keep_alive)
    assert all(np.array_equal(c.position, keep_alive[0].position) for c in keep_alive)
    sent = time.monotonic_ns()
    h.estop_pub.publish(h.transport.new_message("std_msgs/msg/Bool", data=True))
    deadline = time.monotonic() + 5.0
    damped = None
    while damped is None and time.monotonic() < deadline:
        damped = next((t for t, v in h.gains_since("kp", sent) if (v == 0).all()), None)
        time.sleep(0.005)
    assert damped is not None, "no damping command after the e-stop"
    latency = (damped - sent) / 1e9
    print(f"e-stop -> damping command at the robot: {latency * 1e3:.1f} ms while inference was blocked")
    assert latency < ESTOP_BOUND_S, f"e-stop took {latency:.3f} s"
    h.wait_state("ESTOP", cause="estop", timeout=1.0)
    blocked_ticks = ticks_done(h)
    h.robot.cmd_vel = (0.0, 0.0, 0.0)
    wait_blocked_tick_ended(h, blocked_ticks)
    time.sleep(0.3)  # ... and it must not have published its late policy output
    after = h.robot.received.since(damped)
    assert_targets_sane(after)
    assert all(np.array_equal(c.position, after[-1].position) for c in after[1:]), "only the e-stop command"
    assert all((v == 0).all() for _, v in h.gains_since("kp", damped)), "no stiffness after the e-stop"
    assert "the tick took" in b.log() or "blocked in inference" in b.log()
    blocked_ms = float(h.diag("tick latency max (ms)"))  # the blocked tick, recorded once it ended
    print(f"the blocked tick lasted {blocked_ms / 1e3:.2f} s; the e-stop took {latency * 1e3:.1f} ms")
    assert blocked_ms > 1000.0, "inference was blocked for seconds while the e-stop acted"
    h.estop_pub.publish(h.transport.new_message("std_msgs/msg/Bool", data=False))
    time.sleep(0.1)
    enable_back(h)


def ticks_done(h: Harness) -> int:
    return int(h.diag("ticks") or 0)


def wait_blocked_tick_ended(h: Harness, ticks_while_blocked: int) -> float:
    """Wait until ticks complete again after the blocked one (the tick counter moves on); returns the longest tick
    since activation in ms (the blocked one)."""
    deadline = time.monotonic() + 10 * SLOW_INFERENCE_S
    while ticks_done(h) <= ticks_while_blocked + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ticks_done(h) > ticks_while_blocked + 2, "the node never ticked again"
    return float(h.diag("tick latency max (ms)") or "nan")


def slow_inference_then_disable(b: Bench) -> None:
    """`~/enable false` while a tick is blocked in inference: INACTIVE at once, and the late tick publishes nothing
    (INACTIVE publishes nothing by default), neither its policy output nor anything else."""
    h = b.h
    h.ensure_active()
    h.robot.cmd_vel = (SLOW_BELOW - b.slow_trips, 0.0, 0.0)
    h.wait_state("HOLD", cause="inference_overrun", timeout=3.0)
    h.enable_pub.publish(h.transport.new_message(ENABLE_TYPE, data=False))
    h.wait_state("INACTIVE", cause="disable", timeout=1.0)  # while the tick is still blocked (seconds)
    sent, blocked_ticks = time.monotonic_ns(), ticks_done(h)
    h.robot.cmd_vel = (0.0, 0.0, 0.0)
    blocked_ms = wait_blocked_tick_ended(h, blocked_ticks)
    time.sleep(0.3)
    assert blocked_ms > 1000.0, "inference was blocked for seconds"
    late = [c for c in h.robot.received.since(sent) if c.received_ns > sent + int(0.1 * 1e9)]
    assert not late, f"{len(late)} commands after the disable"
    enable_back(h)


def sigint_during_inference(b: Bench) -> None:
    """SIGINT while a tick is blocked in inference: the shutdown (damping) command at once, then nothing; the node
    waits for the inference to end before releasing the engine and exits 0 (no SIGABRT, no traceback)."""
    h = b.h
    h.ensure_active()
    h.robot.cmd_vel = (SLOW_BELOW - b.slow_trips, 0.0, 0.0)
    h.wait_state("HOLD", cause="inference_overrun", timeout=3.0)
    node, b.node, b.profile = b.node, None, None
    sent = time.monotonic_ns()
    node.process.send_signal(__import__("signal").SIGINT)
    deadline = time.monotonic() + 5.0
    damped = None
    while damped is None and time.monotonic() < deadline:
        damped = next((t for t, v in h.gains_since("kp", sent) if (v == 0).all()), None)
        time.sleep(0.005)
    assert damped is not None and (damped - sent) / 1e9 < ESTOP_BOUND_S, "the shutdown command waited for inference"
    rc = node.stop(timeout=SLOW_INFERENCE_S * 4 + 10)
    h.robot.cmd_vel = (0.0, 0.0, 0.0)
    output = node.output()
    b.outputs.append((rc, output))
    assert rc == 0, output[-2000:]  # not -6 (SIGABRT)
    assert "-> INACTIVE (shutdown" in output and "Traceback" not in output
    after = h.robot.received.since(damped)
    assert all(np.array_equal(c.position, after[0].position) for c in after), "nothing but the shutdown command"


def future_stamped_spoofer(b: Bench) -> None:
    """A second publisher stamps joint states 0.5 s ahead with a foreign pose: its messages are dropped and counted,
    the real driver's keep flowing (no HOLD), and the second publisher is reported."""
    h = b.h
    h.ensure_active()
    from leapp_ros.transport import SENSOR_DATA
    spoofer = h.transport.create_publisher("/joint_states", JOINT_STATE, SENSOR_DATA)
    future_before = _counter(h, "stamped in the future")
    log_before = len(b.log())
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            sec, nsec = divmod(time.time_ns() + 500_000_000, 1_000_000_000)
            stamp = h.transport.new_message("builtin_interfaces/msg/Time", sec=sec, nanosec=nsec)
            spoofer.publish(h.transport.new_message(
                JOINT_STATE, header=h.transport.new_message("std_msgs/msg/Header", stamp=stamp),
                name=list(ANYMAL_JOINTS), position=np.full(12, 1.4), velocity=np.zeros(12), effort=np.zeros(12)))
            time.sleep(0.01)
        assert h.diag("safety state") == "ACTIVE", h.diag("safety detail")
        faults = [line for line in b.log()[log_before:].splitlines() if "-> HOLD" in line]
        assert not any("robot_joint" in line for line in faults), faults  # the real driver's stream never stopped
        assert _counter(h, "stamped in the future") >= future_before + 50
        assert h.diag("publishers joint_states") == "2" and h.diagnostic_level == 1  # WARN
        _, commands = h.window(0.3)
        assert_targets_sane(commands)
    finally:
        spoofer.close()
    assert "state topic joint_states has 2 publishers" in b.log()


def second_publisher_holds(b: Bench) -> None:
    """With safety.multiple_publishers: hold, a second (honest) publisher on a state topic holds while it lasts;
    the operator enables again once it is gone."""
    if b.kind == "rclpy":
        pytest.skip("the rclpy graph (Fast DDS) keeps counting a Cyclone writer after it is deleted, so the HOLD "
                    "would never clear here; count_publishers on rclpy: test_safety_stream_trust.py")
    h = b.h
    h.ensure_active()
    from leapp_ros.transport import SENSOR_DATA
    second = h.transport.create_publisher("/joint_states", JOINT_STATE, SENSOR_DATA)
    try:
        h.wait_state("HOLD", cause="multiple_publishers", timeout=2.0)
        assert "joint_states has 2 publishers" in h.diag("safety detail")
        _, commands = h.window(0.3)
        held(commands, settle_s=0.0)
    finally:
        second.close()
    time.sleep(0.6)
    assert h.diag("safety state") == "HOLD", "not left by itself"
    enable_back(h)


def opt_out_caps_1e30_command_by_the_step_bound(b: Bench) -> None:
    """No joint limits (explicit opt-out): a 1e30 velocity command makes the policy output ~1e28 rad targets; every
    published target stays within the measured position +- max_step_rad."""
    h = b.h
    h.ensure_active()
    bounded = int(h.diag("targets step-bounded").split()[0])
    speed, h.robot.max_velocity = h.robot.max_velocity, 0.0  # the robot holds still: measured = this pose
    try:
        time.sleep(0.1)
        measured = h.robot.position.copy()
        h.robot.cmd_vel = (0.0, 1e30, 0.0)
        _, commands = h.window(0.5)
        # capped, not held: no output fault (a loaded machine may still hold for a stale input meanwhile)
        assert commands and h.diag("safety cause") not in ("limit_margin", "non_finite_output", "missing_output"), \
            h.diag("safety detail")
        late = commands[3:]  # from a few ticks on, every target was computed from the huge command
        offsets = np.array([c.position - measured for c in late])
        assert np.isfinite(offsets).all() and (np.abs(offsets) <= MAX_STEP + 1e-6).all(), offsets.max()
        capped = [np.isclose(np.abs(o), MAX_STEP).all() for o in offsets]
        assert any(capped), "capped at the bound on every joint: the policy asked for ~1e28 rad"
        assert int(h.diag("targets step-bounded").split()[0]) > bounded
    finally:
        h.robot.max_velocity = speed
        h.clear_faults()


def no_limits_without_opt_out_is_refused(b: Bench) -> None:
    """No URDF, no joint_limits, no opt-out: refused at configure, one line naming the parameter, exit 2."""
    if b.kind != "dds":
        pytest.skip("`leapp-ros run` (the exit status); the lifecycle node refuses the same configure, unit-tested")
    b.use(None)
    params = write_params_file(b.tmp / "no_limits.yaml", {k: v for k, v in NODE_PARAMETERS.items()
                                                           if k != "joint_limits"})
    count = b.h.robot.received.count
    result = subprocess.run([sys.executable, "-m", "leapp_ros.node.run_cli", str(b.bundle), "--transport", "dds",
                             "--discovery", "loopback", "--params-file", str(params), "--activate-timeout", "5",
                             "--param", "robot_description_wait_s:=0.2"],
                            capture_output=True, text=True, timeout=120, env={**os.environ, **b.env})
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-2000:]
    error = [line for line in output.splitlines() if line.startswith("leapp-ros run: error:")]
    assert len(error) == 1 and "have no position limits" in error[0] and "allow_no_joint_limits" in error[0], output
    assert "Traceback" not in output and "RAMP_IN" not in output
    assert b.h.robot.received.count == count, "nothing was published"


def constant_negative_kp_is_refused(b: Bench) -> None:
    """A bundle whose constant kp is -40 (known from the warm-up): refused at configure naming the port, exit 2."""
    if b.kind != "dds":
        pytest.skip("`leapp-ros run` (the exit status); the lifecycle node refuses the same configure")
    b.use(None)
    bundle = constant_gain_bundle(b.tmp / "negative_kp", -40.0)
    params = write_params_file(b.tmp / "negative_kp.yaml", NODE_PARAMETERS)
    count = b.h.robot.received.count
    result = subprocess.run([sys.executable, "-m", "leapp_ros.node.run_cli", str(bundle), "--transport", "dds",
                             "--discovery", "loopback", "--params-file", str(params), "--activate-timeout", "5"],
                            capture_output=True, text=True, timeout=120, env={**os.environ, **b.env})
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-2000:]
    error = [line for line in output.splitlines() if line.startswith("leapp-ros run: error:")]
    assert len(error) == 1 and "joint_pos_kp_gains" in error[0] and "-40" in error[0], output[-2000:]
    assert "Traceback" not in output and "RAMP_IN" not in output
    assert b.h.robot.received.count == count and not any((v < 0).any() for _, v in b.h.gains["kp"])


def _counter(h: Harness, what: str) -> int:
    """A count from the joint-state topic's diagnostics line, e.g. '12 stamped in the future'."""
    with h._lock:
        text = next((v for k, v in h.diagnostics.items() if k.startswith("topic ") and "joint_states" in k), "")
    part = next((p for p in text.split(",") if what in p), " 0")
    return int(part.split()[0])


@dataclass(frozen=True)
class Scenario:
    name: str
    profile: str | None
    run: Callable[[Bench], None]


# One scenario per runtime class (docs/safety.md lists the guarantee each one proves); grouped by node profile.
SCENARIOS = [
    Scenario("nan_kd_on_6_of_12_joints", "limited", nan_kd_on_6_of_12_joints),
    Scenario("negative_kp", "limited", negative_kp),
    Scenario("engine_raises_every_tick", "limited", engine_raises_every_tick),
    Scenario("slow_inference_then_estop", "limited", slow_inference_then_estop),
    Scenario("slow_inference_then_disable", "limited", slow_inference_then_disable),
    Scenario("slow_inference_then_estop_event_mode", "limited_event", slow_inference_then_estop),
    Scenario("future_stamped_spoofer", "limited", future_stamped_spoofer),
    Scenario("sigint_during_inference", "limited", sigint_during_inference),
    Scenario("opt_out_caps_1e30_command", "unlimited", opt_out_caps_1e30_command_by_the_step_bound),
    Scenario("second_publisher_holds", "unlimited", second_publisher_holds),
    Scenario("no_limits_without_opt_out_refused", None, no_limits_without_opt_out_is_refused),
    Scenario("constant_negative_kp_refused", None, constant_negative_kp_is_refused),
]


@pytest.fixture(scope="module")
def slow_trips(bench: Bench) -> int:
    """Loop trips for SLOW_INFERENCE_S of inference, timed with ONNX Runtime on this machine (its load included)."""
    import onnxruntime as ort
    session = ort.InferenceSession(str(bench.bundle / "Isaac-Velocity-Flat-Anymal-D.onnx"),
                                   providers=["CPUExecutionProvider"])
    feed = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
            for i in session.get_inputs()}
    trips = 40
    feed["base_velocity"] = np.array([[SLOW_BELOW - trips, 0.0, 0.0]], np.float32)
    began = time.perf_counter()
    session.run(None, feed)
    per_trip = (time.perf_counter() - began) / trips
    # the node's ONNX Runtime may use more threads than this session: aim high, the test waits for the end
    return int(min(max(2 * SLOW_INFERENCE_S / per_trip, 200), 40_000))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_runtime_fault_never_reaches_the_actuators(bench, slow_trips, scenario):
    bench.slow_trips = slow_trips
    bench.use(scenario.profile)
    try:
        scenario.run(bench)
    except BaseException:  # a failed scenario must not leave a hostile command or a blocked node to the next one
        bench.h.clear_faults()
        bench.stop_node()
        bench.profile = None
        raise
