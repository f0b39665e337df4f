"""End-to-end latency benchmark: joint-state message in -> target message out, two processes over DDS.

    python -m leapp_ros.node.bench_e2e --rate 500 --seconds 60 --mode event --json out.json

This process plays the robot: it publishes JointState at --rate with a sequence number encoded in one joint's
position, and times the node's Float64MultiArray target that carries it back (a passthrough bundle written
at start, so the policy copies positions to targets by joint name). The node runs in a subprocess
(`python -m leapp_ros.node.run_cli`) on loopback DDS in a private domain. `--mode event` ticks on every
joint-state message; `--mode timer` ticks on the node's deadline timer at the same rate (latency then
includes the wait for the next tick). The safety layer stays in the loop, with ramp-in off and its
deadline-burst HOLD disabled so that misses are counted rather than acted on. Prints figures and writes
JSON; asserts nothing.
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

import numpy as np
import yaml

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


def run_benchmark(rate: float, seconds: float, mode: str, warmup: float = 3.0) -> dict:
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

    def on_target(msg) -> None:
        now = time.monotonic_ns()
        k = int(round(float(msg.data[seq_index])))
        if 0 < k < count and latency_ns[k] < 0 and sent_ns[k]:
            latency_ns[k] = now - sent_ns[k]

    def on_diagnostics(msg) -> None:
        with lock:
            diagnostics.append({kv.key: kv.value for kv in msg.status[0].values})

    transport.create_subscription("joint_commands", "std_msgs/msg/Float64MultiArray", DEFAULT, on_target)
    transport.create_subscription("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", DEFAULT, on_diagnostics)
    publisher = transport.create_publisher("joint_states", "sensor_msgs/msg/JointState", DEFAULT)
    msg = transport.new_message("sensor_msgs/msg/JointState", name=list(JOINTS), position=np.zeros(12))
    params = ["--param", "safety.ramp_in_duration_s:=0.0", "--param", "safety.ramp_in_velocity_cap:=1000000.0",
              "--param", f"tick_on:={'joint_states' if mode == 'event' else 'timer'}",
              "--param", "diagnostics_period_s:=1.0",
              # measure the pipeline, not the safety policy: deadline bursts must not put the node in HOLD
              "--param", "safety.deadline_burst:=1000000000", "--param", "safety.deadline_window:=1000000000"]
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
        "latency_ms": {q: float(np.percentile(got, p)) if got.size else None
                       for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9))}
        | {"max": float(got.max()) if got.size else None, "mean": float(got.mean()) if got.size else None},
        "late_over_one_period": int((got > period * 1e3).sum()),
        "node_deadline_misses": last_diag.get("tick deadline misses"),
        "node_safety_deadline_misses": last_diag.get("deadline misses"),
        "node_tick_latency_ms": {k2: last_diag.get(f"tick latency {k2} (ms)") for k2 in ("p50", "p99", "max")},
        "node_achieved_rate_hz": last_diag.get("achieved rate (Hz)"),
        "node_safety_state": last_diag.get("safety state"),
        "cpu_count": os.cpu_count(),
    }
    if not got.size:
        result["node_output"] = output[-3000:]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leapp_ros.node.bench_e2e", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--mode", choices=("event", "timer"), default="event")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    result = run_benchmark(args.rate, args.seconds, args.mode)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0 if result["received"] else 1


if __name__ == "__main__":
    sys.exit(main())
