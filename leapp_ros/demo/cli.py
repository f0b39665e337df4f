"""`leapp-ros demo`: the reach arm in MuJoCo driven by the demo policy through the deploy node; metrics + plot."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from leapp_ros.demo.example import find_example
from leapp_ros.demo.operator import ReachOperator
from leapp_ros.demo.processes import ChildProcess
from leapp_ros.errors import LeappRosError

STARTUP_TIMEOUT_S = 90.0  # imports and discovery on a loaded 2-core machine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=20.0, help="commanded time in sim seconds (default 20)")
    parser.add_argument("--hold", type=float, default=4.0, help="seconds per reach target (default 4)")
    parser.add_argument("--transport", choices=("auto", "dds", "rclpy"), default="auto",
                        help="auto: rclpy when ROS 2 is sourced, else Cyclone DDS on loopback")
    parser.add_argument("--out", default="out/demo", help="where metrics, plot and logs go (default out/demo)")
    parser.add_argument("--example-dir", help="the reach_arm example directory (default: found automatically)")
    parser.add_argument("--backend", default="auto", help="inference backend of the deploy node")
    parser.add_argument("--seed", type=int, default=3, help="seed of the reach targets")


def run(args: argparse.Namespace) -> int:
    if args.seconds < args.hold or args.hold <= 0:
        raise LeappRosError("--seconds must be at least one --hold period, and --hold positive")
    result = run_demo(args)
    print(format_summary(result))
    return 0


def run_demo(args: argparse.Namespace) -> dict:
    from leapp_ros.demo.limits import limit_arguments
    from leapp_ros.transport import loopback_environment, make_transport
    from leapp_ros.transport.factory import rclpy_available

    example = find_example(args.example_dir)
    metrics = example.metrics()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    kind = args.transport if args.transport != "auto" else ("rclpy" if rclpy_available() else "dds")
    env = dict(os.environ)
    if kind == "dds":
        env.update(loopback_environment())  # a private domain on 127.0.0.1 only
        os.environ.update(env)
    targets = metrics.demo_targets(int(args.seconds // args.hold), seed=args.seed)
    transport_args = ["--transport", kind] + (["--discovery", "loopback"] if kind == "dds" else [])
    sim_seconds = args.seconds + STARTUP_TIMEOUT_S
    children = [
        ChildProcess("sim", ["sim", str(example.sim_config), *transport_args, "--duration", str(sim_seconds)],
                     env, out),
        ChildProcess("deploy", ["run", str(example.bundle), *transport_args, "--backend", args.backend,
                                "--param", "base_frame:=base", *limit_arguments(example.sim_config)], env, out),
    ]
    transport = None
    try:
        transport = make_transport("dds" if kind == "dds" else "rclpy", "leapp_demo",
                                   domain_id=int(env["ROS_DOMAIN_ID"]) if kind == "dds" else None)
        operator = ReachOperator(transport, targets, args.hold, base_frame="base")
        started = time.monotonic()
        while not operator.finished:
            for child in children:
                child.check_alive()
            if not operator.commanding:
                operator.resend()  # the node activates once every input, the target included, has arrived
                if time.monotonic() - started > STARTUP_TIMEOUT_S:
                    raise LeappRosError(f"the deploy node sent no command within {STARTUP_TIMEOUT_S:.0f} s; "
                                        f"last lines of {children[1].log_path}:\n{children[1].tail()}")
            time.sleep(0.25)
    finally:
        # The deploy node first (it sends its safe command while the robot still listens), then the robot.
        codes = {child.name: child.stop() for child in reversed(children)}
        if transport is not None:
            transport.shutdown()
    trace = metrics.ReachTrace.empty()
    for t, commanded, achieved in operator.samples:
        trace.add(t, commanded, achieved)
    result = {"transport": kind, "bundle": str(example.bundle), "targets_m": np.round(targets, 4).tolist(),
              "hold_s": args.hold, **metrics.window_metrics(trace),
              "safety_states": operator.safety_states[-5:], "exit_codes": codes,
              "plot": str(metrics.plot_trace(trace, out / "demo.png",
                                             "leapp_ros demo: reach arm, commanded vs achieved (sim-to-sim)")),
              "logs": [str(child.log_path) for child in children]}
    (out / "demo_metrics.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def format_summary(result: dict) -> str:
    windows = ", ".join(f"{100 * e:.1f}" for e in result["final_error_per_window_m"])
    return "\n".join([
        f"sim-to-sim demo over {result['transport']}: {result['command_windows']} reach targets, "
        f"{result['hold_s']:g} s each",
        f"  final error per target [cm]: {windows}",
        f"  mean final error {100 * result['final_error_mean_m']:.2f} cm,"
        f" max {100 * result['final_error_max_m']:.2f} cm,"
        f" RMS tracking error {100 * result['tracking_error_rms_m']:.2f} cm (includes the moves)",
        f"  success (final error < {100 * result['success_threshold_m']:.0f} cm): {100 * result['success_rate']:.0f}%",
        f"  plot: {result['plot']}",
        f"  metrics: {Path(result['plot']).with_name('demo_metrics.json')}",
    ])
