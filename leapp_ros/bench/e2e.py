"""`bench --e2e`: state message in -> target message out through the transport, with the real deploy node.

The deploy node runs as its own process (`leapp-ros run`, DDS on loopback, private domain) with
`tick_on: joint_states`, so every joint state it accepts triggers one tick and one target message. This
process plays the robot: it publishes every input topic of the bundle's binding plan at the chosen rate (joint
states last) and times, on one clock, each joint state sent and each target received. Each target is matched to
the newest joint state sent before it (see `match`); a joint state whose target did not arrive within one period
is a missed deadline. For exact per-message pairing (a sequence number carried through a passthrough bundle), run
`python -m leapp_ros.bench.e2e` (`run_sequenced`, below).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from leapp_ros import diagnostic_keys as K
from leapp_ros.bench.fake_robot import set_stamp, topic_messages
from leapp_ros.bench.process import ProcessMeter, interrupt
from leapp_ros.bench.stats import latency_stats
from leapp_ros.bundle import Bundle
from leapp_ros.engine import BackendOptions
from leapp_ros.errors import LeappRosError
from leapp_ros.message_types import DIAGNOSTIC_ARRAY, FLOAT64_MULTI_ARRAY, JOINT_STATE
from leapp_ros.percentiles import percentiles

ACTIVATE_TIMEOUT_S = 30.0
NODE_DIAGNOSTICS = (K.ACHIEVED_RATE_HZ, K.TICK_LATENCY_P50_MS, K.TICK_LATENCY_P99_MS, K.TICK_LATENCY_MAX_MS,
                    K.TICK_DEADLINE_MISSES, K.SAFETY_DEADLINE_MISSES, K.SAFETY_STATE, K.BACKEND,
                    K.NODE_OVERHEAD_P50_US, K.NODE_OVERHEAD_P99_US, K.TICK_WAKE_P50_P99_US)
WARMUP_S = 1.0  # after the first target: discovery settles, caches warm


def require_e2e(transport: str) -> None:
    """A clear error, before any timing starts, when the end-to-end run cannot happen here."""
    if transport != "dds":
        raise LeappRosError(f"bench --e2e runs over the DDS transport (got --transport {transport}); the rclpy "
                            "adapter is measured with a ROS 2 install, not from here")
    try:
        import cyclonedds  # noqa: F401
        import rosbags  # noqa: F401

        import leapp_ros.binding  # noqa: F401
        import leapp_ros.node.run_cli  # noqa: F401 - the node must exist before we start it
        import leapp_ros.transport  # noqa: F401
    except ImportError as exc:
        raise LeappRosError(f"bench --e2e needs the deploy node and the DDS transport (pip install "
                            f"cyclonedds==11.0.1 rosbags==0.11.9): {exc}") from None


def run_e2e(bundle: Bundle, options: BackendOptions, rate_hz: float, seconds: float,
            transport: str = "dds") -> dict[str, Any]:
    require_e2e(transport)
    from leapp_ros.binding import BindingSettings, compile_plan
    from leapp_ros.transport import DEFAULT, SENSOR_DATA, make_transport
    from leapp_ros.transport.loopback import loopback_environment

    plan = compile_plan(bundle, BindingSettings.from_params({}))
    if not plan.outputs.targets:
        raise LeappRosError(f"bundle '{bundle.name}' has no joint target output to measure")
    target = plan.outputs.targets[0]
    env = loopback_environment()
    robot = make_transport("dds", "leapp_bench_robot", "/", discovery="loopback", domain_id=int(env["ROS_DOMAIN_ID"]))
    log = tempfile.NamedTemporaryFile("w+", prefix="leapp_bench_node_", suffix=".log", delete=False)
    node = None
    try:
        messages = topic_messages(plan, robot.new_message)
        publishers = [(robot.create_publisher(topic, type_name, DEFAULT), msg, type_name == JOINT_STATE)
                      for topic, type_name, msg in messages]
        received: list[int] = []
        lock = threading.Lock()

        def on_target(_msg: Any) -> None:
            now = time.perf_counter_ns()
            with lock:
                received.append(now)
        robot.create_subscription(target.topic, target.type_name, SENSOR_DATA, on_target)
        diagnostics: dict[str, str] = {}

        def on_diagnostics(msg: Any) -> None:  # the node's own view: tick latency, misses, safety state
            for status in msg.status:
                diagnostics.update({kv.key: kv.value for kv in status.values})
        robot.create_subscription("/diagnostics", DIAGNOSTIC_ARRAY, DEFAULT, on_diagnostics)
        node = _start_node(bundle, options, rate_hz, env, log.name)
        period_ns = int(1e9 / rate_hz)
        sent: list[int] = []
        clock = time.perf_counter_ns

        def publish_until(stop_ns: int, record: bool) -> None:
            deadline = clock()
            while deadline < stop_ns:
                stamp = robot.now_ns()
                for publisher, msg, is_joint_state in publishers:
                    set_stamp(msg, stamp)
                    if is_joint_state and record:
                        sent.append(clock())
                    publisher.publish(msg)
                if node.poll() is not None:
                    raise LeappRosError(f"the deploy node exited with {node.returncode}: {_tail(log.name)}")
                deadline += period_ns
                delay = deadline - clock()
                if delay > 0:
                    time.sleep(delay / 1e9)

        give_up = clock() + int(ACTIVATE_TIMEOUT_S * 1e9)
        while not received and clock() < give_up:  # publish until the node is active and answering
            publish_until(clock() + period_ns * 5, record=False)
        if not received:
            raise LeappRosError(f"the deploy node published nothing on {target.topic} within "
                                f"{ACTIVATE_TIMEOUT_S:.0f} s: {_tail(log.name)}")
        publish_until(clock() + int(WARMUP_S * 1e9), record=False)
        with lock:
            received.clear()
        node_meter = ProcessMeter(node.pid, role="deploy node (leapp-ros run)").start()
        robot_meter = ProcessMeter(role="bench (fake robot)").start()
        began = clock()
        publish_until(began + int(seconds * 1e9), record=True)
        window_s = (clock() - began) / 1e9
        time.sleep(min(0.2, 5 * period_ns / 1e9))  # let the last targets arrive
        node_process, robot_process = node_meter.stop(), robot_meter.stop()
        with lock:
            arrivals = np.array(received, dtype=np.int64)
    finally:
        if node is not None:
            _stop_node(node)
        robot.shutdown()
        log.close()
    result = match(np.array(sent, dtype=np.int64), arrivals, period_ns)
    Path(log.name).unlink(missing_ok=True)
    return {"transport": transport, "tick_on": "joint_states", "rate_hz": float(rate_hz),
            "seconds": round(window_s, 3), "target_topic": target.topic,
            "input_topics": [topic for topic, _, _ in messages], **result,
            "achieved_hz": round(result["matched"] / window_s, 2), "node_process": node_process,
            "robot_process": robot_process,
            "node_diagnostics": {key: diagnostics[key] for key in NODE_DIAGNOSTICS if key in diagnostics}}


def match(sent_ns: np.ndarray, arrivals_ns: np.ndarray, period_ns: int) -> dict[str, Any]:
    """Pair each target arrival with the newest joint state sent before it, each state answered at most once.

    The node ticks on the newest joint state it has, so a target reflects the freshest state sent before it
    arrived; states lost on the way (best-effort sensor QoS) or superseded before a tick are left unanswered
    instead of shifting every later pair (pairing in order would add one period per lost state from then on).
    A state with no target within one period counts as a missed deadline."""
    latencies = []
    on_time, extra, last_answered = 0, 0, -1
    for arrival in arrivals_ns:
        newest = int(np.searchsorted(sent_ns, arrival, side="right")) - 1
        if newest <= last_answered:  # no new joint state since the last answered one
            extra += 1
            continue
        latency = int(arrival - sent_ns[newest])
        latencies.append(latency)
        on_time += latency <= period_ns
        last_answered = newest
    return {"states_sent": int(len(sent_ns)), "targets_received": int(len(arrivals_ns)),
            "matched": len(latencies), "unmatched_targets": extra,
            "missed_deadlines": int(len(sent_ns) - on_time),
            "latency": latency_stats(np.array(latencies, dtype=np.int64))}


def _start_node(bundle: Bundle, options: BackendOptions, rate_hz: float, env: dict[str, str],
                log_path: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "leapp_ros.node.run_cli", str(bundle.yaml_path), "--transport", "dds",
               "--discovery", "loopback", "--activate-timeout", str(ACTIVATE_TIMEOUT_S), "--rate", str(rate_hz),
               "--backend", options.backend, "--param", f"device:={options.device}",
               "--param", "tick_on:=joint_states", "--param", "diagnostics_period_s:=0.5",
               "--param", "safety.allow_no_joint_limits:=true",  # a stand-in robot without a URDF
               "--log-level", "warning"]
    with open(log_path, "w") as log:
        return subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)


def _stop_node(process: subprocess.Popen) -> None:
    interrupt(process)


def _tail(path: str, lines: int = 8) -> str:
    try:
        text = Path(path).read_text().strip().splitlines()
    except OSError:
        return "(no node log)"
    return " | ".join(text[-lines:]) or "(node log empty)"


# ---------------------------------------------------------------- exact pairing through a passthrough bundle
SEQUENCED_DOC = """Exact pairing (`python -m leapp_ros.bench.e2e`): joint-state message in -> target message out,
two processes over DDS.

    python -m leapp_ros.bench.e2e --rate 500 --seconds 60 --mode event --json out.json

This process plays the robot: it publishes JointState at --rate with a sequence number encoded in one joint's
position, and times the node's Float64MultiArray target that carries it back (a passthrough bundle written
at start, so the policy copies positions to targets by joint name). The node runs in a subprocess
(`python -m leapp_ros.node.run_cli`) on loopback DDS in a private domain. `--mode event` ticks on every
joint-state message; `--mode timer` ticks on the node's deadline timer at the same rate (latency then
includes the wait for the next tick). The safety layer stays in the loop, with ramp-in off and its
deadline-burst HOLD disabled so that misses are counted rather than acted on. Prints figures and writes
JSON; asserts nothing.
"""

JOINTS = [f"joint_{i:02d}" for i in range(12)]


def write_passthrough_bundle(directory: Path) -> Path:
    """A valid LEAPP 0.7 bundle whose only output copies the joint positions, reversed (by name)."""
    import onnx
    from onnx import TensorProto, helper

    reverse = list(range(11, -1, -1))
    graph = helper.make_graph(
        [helper.make_node("Gather", ["joint_pos", "index"], ["targets"], axis=1)], "bench",
        [helper.make_tensor_value_info("joint_pos", TensorProto.FLOAT, [1, 12])],
        [helper.make_tensor_value_info("targets", TensorProto.FLOAT, [1, 12])],
        initializer=[helper.make_tensor("index", TensorProto.INT64, [12], reverse)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    path = directory / "policy.onnx"
    onnx.save(model, path)
    data = {
        "models": {"policy": {
            "inputs": [{"name": "joint_pos", "dtype": "float32", "shape": [1, 12], "type": "tensor",
                        "kind": "state/joint/position", "element_names": [JOINTS],
                        "isaaclab_connection": "state:robot:joint_pos"}],
            "outputs": [{"name": "targets", "dtype": "float32", "shape": [1, 12], "type": "tensor",
                         "kind": "target/joint/position", "element_names": [[JOINTS[i] for i in reverse]],
                         "isaaclab_connection": "write:robot:set_joint_position_target_index"}],
            "parameters": {"model_path": "policy.onnx", "md5sum": hashlib.md5(path.read_bytes()).hexdigest(),
                           "sha256sum": hashlib.sha256(path.read_bytes()).hexdigest(), "backend": "onnx"}}},
        "pipeline": {"configs": {"frequency": 50.0}, "data_flow": {}, "feedback_flow": {},
                     "inputs": {"policy": ["joint_pos"]}, "outputs": {"policy": ["targets"]}},
        "system information": {"leapp config version": "1.3", "leapp version": "0.7.2"},
    }
    yaml_path = directory / "bench_passthrough.yaml"
    yaml_path.write_text(yaml.safe_dump(data, sort_keys=False))
    return yaml_path


def run_sequenced(rate: float, seconds: float, mode: str, warmup: float = 3.0) -> dict[str, Any]:
    """Exact per-message latency: a sequence number rides in joint_00's position through a passthrough bundle."""
    from leapp_ros.transport import DEFAULT, loopback_environment, make_transport

    env = loopback_environment()
    os.environ.update(env)
    workdir = Path(tempfile.mkdtemp(prefix="leapp_bench_"))
    bundle = write_passthrough_bundle(workdir)
    count = int((seconds + warmup) * rate) + 10
    sent_ns = np.zeros(count, dtype=np.int64)
    latency_ns = np.full(count, -1, dtype=np.int64)
    transport = make_transport("dds", "bench_robot", "/", discovery="loopback")
    diagnostics: list[dict[str, str]] = []
    lock = threading.Lock()
    seq_joint = JOINTS[0]
    targets_order = [JOINTS[i] for i in range(11, -1, -1)]
    seq_index = targets_order.index(seq_joint)

    def on_target(msg: Any) -> None:
        now = time.monotonic_ns()
        k = int(round(float(msg.data[seq_index])))
        if 0 < k < count and latency_ns[k] < 0 and sent_ns[k]:
            latency_ns[k] = now - sent_ns[k]

    def on_diagnostics(msg: Any) -> None:
        with lock:
            diagnostics.append({kv.key: kv.value for kv in msg.status[0].values})

    transport.create_subscription("joint_commands", FLOAT64_MULTI_ARRAY, DEFAULT, on_target)
    transport.create_subscription("/diagnostics", DIAGNOSTIC_ARRAY, DEFAULT, on_diagnostics)
    publisher = transport.create_publisher("joint_states", JOINT_STATE, DEFAULT)
    msg = transport.new_message(JOINT_STATE, name=list(JOINTS), position=np.zeros(12))
    params = ["--param", "safety.ramp_in_duration_s:=0.0", "--param", "safety.ramp_in_velocity_cap:=1000000.0",
              "--param", f"tick_on:={'joint_states' if mode == 'event' else 'timer'}",
              "--param", "diagnostics_period_s:=1.0",
              # measure the pipeline, not the safety policy: deadline bursts must not put the node in HOLD
              "--param", "safety.deadline_burst:=100000", "--param", "safety.deadline_window:=100000",
              "--param", "safety.allow_no_joint_limits:=true"]  # a stand-in robot without a URDF
    node = subprocess.Popen([sys.executable, "-m", "leapp_ros.node.run_cli", str(bundle), "--transport", "dds",
                             "--discovery", "loopback", "--rate", str(rate), "--log-level", "warning", *params],
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    period = 1.0 / rate
    try:
        start = time.monotonic()
        deadline = start
        k = 0
        while k < count - 1:
            k += 1
            msg.position[0] = float(k)  # the sequence number travels in joint_00's position
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(transport.now_ns(), 1_000_000_000)
            sent_ns[k] = time.monotonic_ns()
            publisher.publish(msg)
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if node.poll() is not None:
                break
        time.sleep(0.2)
    finally:
        node.terminate()
        output, _ = node.communicate(timeout=20)
        transport.shutdown()
    first = int(warmup * rate)
    measured = latency_ns[first:k]
    got = measured[measured >= 0] / 1e6
    with lock:
        last_diag = diagnostics[-1] if diagnostics else {}
    result = {
        "rate_hz": rate, "seconds": seconds, "mode": mode, "sent": int(k - first), "received": int(got.size),
        "lost": int((measured < 0).sum()),
        "latency_ms": percentiles(got, (50, 90, 99, 99.9))
        | {"max": float(got.max()) if got.size else None, "mean": float(got.mean()) if got.size else None},
        "late_over_one_period": int((got > period * 1e3).sum()),
        "node_deadline_misses": last_diag.get(K.TICK_DEADLINE_MISSES),
        "node_safety_deadline_misses": last_diag.get(K.SAFETY_DEADLINE_MISSES),
        "node_tick_latency_ms": {"p50": last_diag.get(K.TICK_LATENCY_P50_MS),
                                 "p99": last_diag.get(K.TICK_LATENCY_P99_MS),
                                 "max": last_diag.get(K.TICK_LATENCY_MAX_MS)},
        "node_achieved_rate_hz": last_diag.get(K.ACHIEVED_RATE_HZ),
        "node_safety_state": last_diag.get(K.SAFETY_STATE),
        "node_overhead_us": {"p50": last_diag.get(K.NODE_OVERHEAD_P50_US),
                             "p99": last_diag.get(K.NODE_OVERHEAD_P99_US)},
        # event mode: from the joint state's acceptance to the start of its tick (the tick thread's wake-up)
        "node_tick_wake_up_p50_p99_us": last_diag.get(K.TICK_WAKE_P50_P99_US),
        "late_fraction": round(int((got > period * 1e3).sum()) / max(k - first, 1), 6),
        "cpu_count": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if not got.size:
        result["node_output"] = output[-3000:]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leapp_ros.bench.e2e", description=SEQUENCED_DOC,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--mode", choices=("event", "timer"), default="event")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    result = run_sequenced(args.rate, args.seconds, args.mode)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0 if result["received"] else 1


if __name__ == "__main__":
    sys.exit(main())
