"""Latency benchmark: two processes exchange JointState over the DDS transport; prints p50/p99/max and CPU, writes JSON.

Run:  python -m leapp_ros.bench.transport_latency --rate 500 --duration 10 [--qos sensor_data] [--receive listener]
Latency = receive wall clock minus ``header.stamp`` (same host clock), taken in the subscription callback,
so it includes decoding and the receive-thread wake-up. CPU = each process's CPU time over the run / wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from leapp_ros.message_types import JOINT_STATE
from leapp_ros.percentiles import percentiles
from leapp_ros.transport.base import qos_profile

TOPIC = "/bench/joint_states"
TYPE = JOINT_STATE
WARMUP_S = 1.0  # discovery + rosbags codec generation before timing starts


def run_subscriber(args: argparse.Namespace) -> None:
    from leapp_ros.transport.dds import DdsTransport

    transport = DdsTransport("bench_sub", receive=args.receive)
    expected = int(args.rate * args.duration)
    latencies = np.zeros(expected + 1000, dtype=np.int64)
    state = {"n": 0, "cpu0": 0.0, "wall0": 0.0, "cpu1": 0.0, "wall1": 0.0}

    def on_msg(msg: Any) -> None:
        now = time.time_ns()
        if msg.header.frame_id != "run":
            return
        if state["n"] == 0:
            state["cpu0"], state["wall0"] = time.process_time(), time.monotonic()
        if state["n"] < len(latencies):
            stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            latencies[int(state["n"])] = now - stamp
        state["n"] += 1
        state["cpu1"], state["wall1"] = time.process_time(), time.monotonic()

    transport.create_subscription(TOPIC, TYPE, qos_profile(args.qos), on_msg)
    print("READY", flush=True)
    deadline = time.monotonic() + WARMUP_S + args.duration + 10.0
    while state["n"] < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    transport.shutdown()
    n = min(state["n"], len(latencies))
    wall = max(state["wall1"] - state["wall0"], 1e-9)
    Path(args.result).write_text(json.dumps({
        "received": state["n"], "latencies_ns": latencies[:n].tolist(),
        "cpu_percent": 100.0 * (state["cpu1"] - state["cpu0"]) / wall}))


def run_publisher(args: argparse.Namespace) -> None:
    from leapp_ros.transport.dds import DdsTransport

    transport = DdsTransport("bench_pub")
    pub = transport.create_publisher(TOPIC, TYPE, qos_profile(args.qos))
    names = [f"joint_{i}" for i in range(args.joints)]
    msg = transport.new_message(TYPE, name=names, position=np.zeros(args.joints), velocity=np.zeros(args.joints),
                                effort=np.zeros(args.joints))
    period = 1.0 / args.rate
    msg.header.frame_id = "warmup"
    warm_end = time.monotonic() + WARMUP_S
    while time.monotonic() < warm_end:
        pub.publish(msg)
        time.sleep(period)
    msg.header.frame_id = "run"
    count = int(args.rate * args.duration)
    late = 0
    cpu0, wall0 = time.process_time(), time.monotonic()
    next_tick = wall0
    for i in range(count):
        now = time.monotonic()
        if next_tick > now:
            time.sleep(next_tick - now)
        elif now - next_tick > period:
            late += 1
        stamp = time.time_ns()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        msg.position[0] = float(i)
        pub.publish(msg)
        next_tick += period
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    time.sleep(0.5)
    transport.shutdown()
    Path(args.result).write_text(json.dumps({"sent": count, "late_ticks": late, "cpu_percent": 100.0 * cpu / wall}))


def summarize(args: argparse.Namespace, sub: dict[str, Any], pub: dict[str, Any]) -> dict[str, Any]:
    lat_us = np.asarray(sub["latencies_ns"], dtype=np.float64) / 1000.0
    p = {q: None if v is None else round(v, 1) for q, v in percentiles(lat_us, (50, 99, 99.9)).items()}
    return {
        "rate_hz": args.rate, "duration_s": args.duration, "qos": args.qos, "receive": args.receive,
        "joints": args.joints, "sent": pub["sent"], "received": sub["received"], "late_ticks": pub["late_ticks"],
        "p50_us": p["p50"], "p99_us": p["p99"], "p999_us": p["p99.9"],
        "max_us": round(float(lat_us.max()), 1) if lat_us.size else None,
        "pub_cpu_percent": round(pub["cpu_percent"], 1), "sub_cpu_percent": round(sub["cpu_percent"], 1),
        "cpu_count": os.cpu_count(), "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="publish rate in Hz")
    parser.add_argument("--duration", type=float, default=10.0, help="timed seconds")
    parser.add_argument("--joints", type=int, default=12)
    parser.add_argument("--qos", choices=["default", "sensor_data"], default="default")
    parser.add_argument("--receive", choices=["waitset", "listener"], default="waitset")
    parser.add_argument("--json", default="out/bench_latency.json", help="where to write the summary")
    parser.add_argument("--role", choices=["main", "pub", "sub"], default="main", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "pub":
        run_publisher(args)
        return 0
    if args.role == "sub":
        run_subscriber(args)
        return 0

    from leapp_ros.transport.loopback import loopback_environment

    env = {**os.environ, **loopback_environment()}
    base = [sys.executable, "-m", "leapp_ros.bench.transport_latency", "--rate", str(args.rate), "--duration",
            str(args.duration), "--joints", str(args.joints), "--qos", args.qos, "--receive", args.receive]
    with tempfile.TemporaryDirectory() as tmp:
        sub_out, pub_out = Path(tmp, "sub.json"), Path(tmp, "pub.json")
        sub = subprocess.Popen([*base, "--role", "sub", "--result", str(sub_out)], env=env,
                               stdout=subprocess.PIPE, text=True)
        assert sub.stdout is not None
        if sub.stdout.readline().strip() != "READY":
            raise SystemExit("benchmark subscriber failed to start")
        subprocess.run([*base, "--role", "pub", "--result", str(pub_out)], env=env, check=True)
        sub.wait(timeout=args.duration + 30)
        summary = summarize(args, json.loads(sub_out.read_text()), json.loads(pub_out.read_text()))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    print(f"JointState({args.joints}) {args.rate:g} Hz x {args.duration:g} s, qos={args.qos}, "
          f"receive={args.receive}: received {summary['received']}/{summary['sent']}, "
          f"p50 {summary['p50_us']} us, p99 {summary['p99_us']} us, p99.9 {summary['p999_us']} us, "
          f"max {summary['max_us']} us; CPU pub {summary['pub_cpu_percent']} % sub {summary['sub_cpu_percent']} % "
          f"of one core; late ticks {summary['late_ticks']} -> {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
