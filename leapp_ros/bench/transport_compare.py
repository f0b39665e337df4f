"""rclpy against DDS, side by side: the same deploy node on each transport at several policy rates.

    python -m leapp_ros.bench.transport_compare --rates 50 200 500 --seconds 10 --json docs/bench/rclpy-vs-dds.json

For each transport and rate this process plays the robot over Cyclone DDS on loopback (a private domain): it
publishes JointState at twice the policy rate to a passthrough bundle ticking on its deadline timer, and reads
the node's targets and /diagnostics. The node runs as its own process: `leapp-ros run --transport dds`, or the
rclpy lifecycle node (`python -m leapp_ros.node.main`, autostart) on Fast DDS. Per run it records the start-up
time (process start -> first target), the node's CPU share over the measured window, the deadline misses and
ticks in that window, the tick latency p99 (ring of recent ticks), the achieved target rate, and the Ctrl-C stop
(SIGINT -> exit: time, exit code, whether the damping command arrived). The safety layer's deadline-burst HOLD is
disabled so that misses are counted, not acted on. First, per transport and feed rate, a process that only
receives the joint states (no node) gives the transport's own CPU cost. Prints the figures and writes JSON;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from leapp_ros import diagnostic_keys as K
from leapp_ros.bench.e2e import JOINTS, write_passthrough_bundle
from leapp_ros.bench.environment import hardware, software
from leapp_ros.bench.process import ProcessMeter, interrupt
from leapp_ros.message_types import DIAGNOSTIC_ARRAY, FLOAT64_MULTI_ARRAY, JOINT_STATE
from leapp_ros.percentiles import percentiles

NO_BURST_HOLD = {"safety.ramp_in_duration_s": 0.0, "safety.deadline_burst": 1_000_000,
                 "safety.deadline_window": 1_000_000, "safety.allow_no_joint_limits": "true",
                 "diagnostics_period_s": 0.5}


def node_command(transport: str, bundle: Path, rate_hz: float) -> list[str]:
    params = {**NO_BURST_HOLD, "rate_hz": float(rate_hz)}
    if transport == "dds":
        command = [sys.executable, "-m", "leapp_ros.node.run_cli", str(bundle), "--transport", "dds",
                   "--discovery", "loopback", "--activate-timeout", "30"]
        return command + [arg for k, v in params.items() for arg in ("--param", f"{k}:={v}")]
    ros = ["--ros-args", "-p", f"bundle:={bundle}", "-p", "autostart:=true"]
    return [sys.executable, "-m", "leapp_ros.node.main", *ros, *[a for k, v in params.items()
                                                                   for a in ("-p", f"{k}:={v}")]]


def bare_receiver(transport: str) -> None:
    """A process that only receives the joint states (no node): the transport's own cost per message."""
    from leapp_ros.transport import SENSOR_DATA

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    count = [0]

    def on_state(_msg: Any) -> None:
        count[0] += 1
    if transport == "dds":
        from leapp_ros.transport import make_transport
        receiver = make_transport("dds", "bare_receiver", "/", discovery="loopback")
        receiver.create_subscription("joint_states", JOINT_STATE, SENSOR_DATA, on_state)
        stop.wait()
        receiver.shutdown()
    else:
        import rclpy

        from leapp_ros.transport.ros2 import RclpyTransport, init_rclpy, make_executor
        init_rclpy(rclpy)
        receiver = RclpyTransport("bare_receiver", spin=False)
        receiver.create_subscription("joint_states", JOINT_STATE, SENSOR_DATA, on_state)
        executor = make_executor()
        executor.add_node(receiver.node)
        while not stop.is_set():
            executor.spin_once(timeout_sec=0.1)
        receiver.shutdown()
        rclpy.try_shutdown()
    print(f"received {count[0]}", flush=True)


def run_bare(variant: str, feed_hz: float, seconds: float) -> dict[str, Any]:
    """CPU share of a process that only receives `feed_hz` joint states on `variant`'s transport."""
    from leapp_ros.transport import SENSOR_DATA, make_transport

    transport, executor = VARIANTS[variant]
    robot = make_transport("dds", "bench_feeder", "/", discovery="loopback")
    publisher = robot.create_publisher("joint_states", JOINT_STATE, SENSOR_DATA)
    process = subprocess.Popen([sys.executable, "-m", "leapp_ros.bench.transport_compare", "--bare-receiver",
                                transport], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "LEAPP_ROS_EXECUTOR": executor})
    stop = threading.Event()

    def feed() -> None:
        deadline = time.monotonic()
        while not stop.is_set():
            publisher.publish(robot.new_message(JOINT_STATE, name=JOINTS, position=[0.0] * 12,
                                                velocity=[0.0] * 12))
            deadline += 1.0 / feed_hz
            stop.wait(max(0.0, deadline - time.monotonic()))
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        time.sleep(3.0)  # start-up and discovery
        meter = ProcessMeter(process.pid, role=f"{transport} bare receiver").start()
        time.sleep(seconds)
        usage = meter.stop()
    finally:
        output = interrupt(process, timeout=20)
        stop.set()
        feeder.join(2.0)
        robot.shutdown()
    return {"variant": variant, "feed_hz": feed_hz, "seconds": seconds, "cpu_share": usage["cpu_share"],
            "output": output.strip()[-200:]}


VARIANTS = {"dds": ("dds", ""), "rclpy": ("rclpy", "single"), "rclpy-events": ("rclpy", "events")}


def run_one(variant: str, bundle: Path, rate_hz: float, seconds: float, warmup_s: float = 2.0) -> dict[str, Any]:
    from leapp_ros.transport import DEFAULT, SENSOR_DATA, make_transport

    transport, executor = VARIANTS[variant]
    robot = make_transport("dds", "bench_robot", "/", discovery="loopback")
    lock = threading.Lock()
    targets: list[tuple[int, np.ndarray]] = []
    diagnostics: list[dict[str, Any]] = []  # key/values, plus 'received_s' (monotonic)

    def on_target(msg: Any) -> None:
        with lock:
            targets.append((time.monotonic_ns(), np.asarray(msg.data)))

    def on_diagnostics(msg: Any) -> None:
        values = {kv.key: kv.value for s in msg.status for kv in s.values}
        values["received_s"] = time.monotonic()
        with lock:
            diagnostics.append(values)

    robot.create_subscription("joint_commands", FLOAT64_MULTI_ARRAY, DEFAULT, on_target)
    robot.create_subscription("/diagnostics", DIAGNOSTIC_ARRAY, DEFAULT, on_diagnostics)
    publisher = robot.create_publisher("joint_states", JOINT_STATE, SENSOR_DATA)
    stop = threading.Event()

    def feed() -> None:
        period = 1.0 / min(2.0 * rate_hz, 1000.0)
        deadline = time.monotonic()
        k = 0
        while not stop.is_set():
            k += 1
            msg = robot.new_message(JOINT_STATE, name=JOINTS,
                                    position=[0.001 * (k % 1000)] * len(JOINTS), velocity=[0.0] * len(JOINTS))
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(robot.now_ns(), 1_000_000_000)
            publisher.publish(msg)
            deadline += period
            stop.wait(max(0.0, deadline - time.monotonic()))
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    started = time.monotonic()
    process = subprocess.Popen(node_command(transport, bundle, rate_hz), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "RCUTILS_LOGGING_BUFFERED_STREAM": "0",
                                    "LEAPP_ROS_EXECUTOR": executor})
    result: dict[str, Any] = {"variant": variant, "transport": transport, "executor": executor or None,
                              "rate_hz": rate_hz, "feed_hz": min(2.0 * rate_hz, 1000.0),
                              "seconds": seconds}
    try:
        while not targets and process.poll() is None and time.monotonic() - started < 60:
            time.sleep(0.01)
        if not targets:
            output = interrupt(process, timeout=20)
            raise RuntimeError(f"{transport} node published nothing within 60 s:\n{output[-3000:]}")
        result["startup_to_first_target_s"] = round(time.monotonic() - started, 3)
        time.sleep(warmup_s)
        with lock:
            diag0, count0 = dict(diagnostics[-1]), len(targets)
        meter = ProcessMeter(process.pid, role=f"{transport} node").start()
        time.sleep(seconds)
        usage = meter.stop()
        with lock:
            count1 = len(targets)
        time.sleep(0.6)  # the next diagnostics message closes the counting interval
        with lock:
            diag1 = dict(diagnostics[-1])
        interval = diag1["received_s"] - diag0["received_s"]
        ticks = int(diag1[K.TICKS]) - int(diag0[K.TICKS])
        result.update({
            "node_cpu_share": usage["cpu_share"], "node_threads": usage["threads"],
            "targets_per_s": round((count1 - count0) / seconds, 2),
            "diagnostics_interval_s": round(interval, 3), "ticks_in_interval": ticks,
            "ticks_per_s": round(ticks / interval, 2),
            "deadline_misses_in_interval": int(diag1[K.TICK_DEADLINE_MISSES]) - int(diag0[K.TICK_DEADLINE_MISSES]),
            "tick_p50_ms": float(diag1[K.TICK_LATENCY_P50_MS]), "tick_p99_ms": float(diag1[K.TICK_LATENCY_P99_MS]),
            "tick_max_ms": float(diag1[K.TICK_LATENCY_MAX_MS]), "safety_state": diag1.get(K.SAFETY_STATE)})
    finally:
        with lock:
            before = len(targets)
        stopped = time.monotonic()
        output = interrupt(process, timeout=20)
        result["sigint_to_exit_s"] = round(time.monotonic() - stopped, 3)
        result["exit_code"] = process.returncode
        result["traceback_in_output"] = "Traceback" in output
        time.sleep(0.3)
        with lock:
            result["messages_after_sigint"] = len(targets) - before
        stop.set()
        feeder.join(2.0)
        robot.shutdown()
    return result


def ros_versions() -> dict[str, str | None]:
    """rclpy and Fast DDS versions of this environment (pip wheels or a sourced ROS 2)."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for key, names in (("rclpy", ("ros-rclpy", "rclpy")), ("fast_dds", ("ros-fastdds", "ros-fastrtps"))):
        found[key] = None
        for name in names:
            try:
                found[key] = f"{name} {version(name)}"
                break
            except PackageNotFoundError:
                continue
    return found


def mid(values: list[float]) -> float:
    """The median of a few rounds, rounded for the report."""
    return round(float(percentiles(values, (50,))["p50"] or 0.0), 4)


def summarize(bare: list[dict[str, Any]], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians over the rounds, per variant and rate (the machine's load moves every single figure)."""
    rows = []
    for rate in sorted({r["rate_hz"] for r in runs}):
        for variant in dict.fromkeys(r["variant"] for r in runs):
            mine = [r for r in runs if r["rate_hz"] == rate and r["variant"] == variant and "node_cpu_share" in r]
            feed = min(2.0 * rate, 1000.0)
            idle = [b["cpu_share"] for b in bare if b["variant"] == variant and b["feed_hz"] == feed]
            if not mine:
                continue
            rows.append({"variant": variant, "rate_hz": rate, "rounds": len(mine),
                         "node_cpu_share": mid([r["node_cpu_share"] for r in mine]),
                         "bare_receive_cpu_share": mid(idle) if idle else None,
                         "deadline_miss_fraction": mid(
                             [r["deadline_misses_in_interval"] / max(1, r["ticks_in_interval"]) for r in mine]),
                         "tick_p99_ms": mid([r["tick_p99_ms"] for r in mine]),
                         "targets_per_s": mid([r["targets_per_s"] for r in mine]),
                         "startup_to_first_target_s": mid([r["startup_to_first_target_s"] for r in mine]),
                         "sigint_to_exit_s": mid([r["sigint_to_exit_s"] for r in mine]),
                         "exit_codes": sorted({r["exit_code"] for r in mine})})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leapp_ros.bench.transport_compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 200.0, 500.0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per run (default 10)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                        help="dds; rclpy (SingleThreadedExecutor); rclpy-events (rclpy's EventsExecutor)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; variants are interleaved within a round")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--note", default="", help="free text stored with the figures (e.g. how busy the machine was)")
    parser.add_argument("--bare-receiver", choices=["dds", "rclpy"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_receiver:
        bare_receiver(args.bare_receiver)
        return 0
    from leapp_ros.transport import loopback_environment

    os.environ.update(loopback_environment())
    bundle = write_passthrough_bundle(Path(tempfile.mkdtemp(prefix="leapp_transport_compare_")))
    runs = []
    bare = []
    for round_ in range(args.repeat):
        for rate in args.rates:
            for variant in args.variants:
                entry = run_bare(variant, min(2.0 * rate, 1000.0), args.seconds)
                bare.append({**entry, "round": round_})
                print(f"{variant:12s} bare receive of {entry['feed_hz']:.0f} joint states/s: CPU {entry['cpu_share']}",
                      flush=True)
    for round_ in range(args.repeat):
        for rate in args.rates:
            for variant in args.variants:
                run = {**run_one(variant, bundle, rate, args.seconds), "round": round_}
                runs.append(run)
                print(f"{variant:12s} {rate:6.0f} Hz: start {run.get('startup_to_first_target_s')} s, "
                      f"CPU {run.get('node_cpu_share')}, misses {run.get('deadline_misses_in_interval')}/"
                      f"{run.get('ticks_in_interval')} ticks, p99 {run.get('tick_p99_ms')} ms, "
                      f"{run.get('targets_per_s')} targets/s, Ctrl-C {run['sigint_to_exit_s']} s rc {run['exit_code']}",
                      flush=True)
    summary = summarize(bare, runs)
    for row in summary:
        print("median " + ", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    document = {"benchmark": "transport_compare", "created_unix": int(time.time()), "note": args.note,
                "hardware": hardware(), "software": {**software(), **ros_versions()},
                "method": (__doc__ or "").strip().splitlines()[2:],
                "summary": summary, "bare_receive": bare, "runs": runs}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
