#!/usr/bin/env python3
"""ROS-free sim-to-sim check of an exported reach-arm bundle: leapp_ros Engine + SimRobot, metrics + plot.

Usage (from the repository root)::

    .venv/bin/python examples/reach_arm/run_bundle.py examples/reach_arm/bundle/Leapp-Reach-Arm-v0 \
        --duration 20 --plot /tmp/reach_bundle.png

Binds the bundle's ports by ``isaaclab_connection`` and ``element_names`` (joint state in, position
target and kp/kd out, the ``ee_pose`` command as x, y, z, qx, qy, qz, qw in the base frame), runs
the policy at the bundle's rate on the single-arm MJCF and prints tracking metrics as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import task  # noqa: E402
from metrics import ReachTrace, demo_targets, plot_trace, window_metrics  # noqa: E402

from leapp_ros.engine import Engine  # noqa: E402
from leapp_ros.errors import ConfigurationError, LeappRosError  # noqa: E402
from leapp_ros.sim import SimRobot, reorder_quat  # noqa: E402
from leapp_ros.sim.config_file import load_sim_file  # noqa: E402


class ReachBinding:
    """Index arrays from the bundle's element_names to the sim robot, resolved once."""

    def __init__(self, engine: Engine, robot: SimRobot) -> None:
        self.feeds: list[tuple[str, str, np.ndarray | None, object]] = []
        self.writes: dict[str, tuple[str, np.ndarray]] = {}
        for port in engine.bundle.inputs:
            conn = port.connection
            if conn is None:
                raise ConfigurationError(f"bundle input '{port.key}' has no isaaclab_connection to bind")
            what = f"bundle input '{port.key}'"
            if conn.kind == "state" and conn.attribute in ("joint_pos", "joint_vel"):
                idx = robot.joints.require_all(list(port.last_axis_names), what)
                self.feeds.append((port.key, conn.attribute, idx, port))
            elif conn.kind == "command" and port.last_axis_names and len(port.last_axis_names) == 7:
                names = list(port.last_axis_names)
                self.feeds.append((port.key, "pose", np.array([names.index(c) for c in "xyz"]), port))
                self.quat_names = names[3:]
            else:
                raise ConfigurationError(f"{what} ({conn}) is not something this reach example can feed")
        for port in engine.bundle.outputs:
            if port.kind in ("target/joint/position", "kp", "kd"):
                what = f"bundle output '{port.key}'"
                self.writes[port.key] = (port.kind, robot.joints.indices(list(port.last_axis_names), what))

    def inputs(self, robot: SimRobot, target_pos: np.ndarray) -> dict[str, np.ndarray]:
        q, qd = robot.joint_positions(), robot.joint_velocities()
        out = {}
        for key, source, idx, port in self.feeds:
            if source == "joint_pos":
                value = q[idx]
            elif source == "joint_vel":
                value = qd[idx]
            else:  # pose command: position in the base frame, identity orientation
                value = np.empty(7)
                value[idx] = target_pos
                value[3:] = reorder_quat(np.array([1.0, 0.0, 0.0, 0.0]), "wxyz", self.quat_names)
            out[key] = value.astype(port.dtype).reshape(port.shape)
        return out

    def apply(self, robot: SimRobot, outputs: dict[str, np.ndarray]) -> None:
        for key, (kind, idx) in self.writes.items():
            value = outputs[key].reshape(-1).astype(float)
            if kind == "target/joint/position":
                robot.set_targets(position=value, indices=idx)
            else:
                gains = robot.kp.copy() if kind == "kp" else robot.kd.copy()
                gains[idx] = value
                robot.set_gains(**{kind: gains})


def run(bundle: Path, sim_yaml: Path, duration_s: float, window_s: float, seed: int) -> ReachTrace:
    engine = Engine.load(bundle)
    sim = load_sim_file(sim_yaml)
    robot = SimRobot(sim.model, sim.robot)
    binding = ReachBinding(engine, robot)
    rate = engine.bundle.rate_hz or 1.0 / task.STEP_DT
    decimation = int(round(1.0 / (rate * robot.physics_dt)))
    targets = demo_targets(int(np.ceil(duration_s / window_s)), seed)
    trace = ReachTrace.empty()
    steps = int(round(duration_s * rate))
    for k in range(steps):
        target = targets[int(k / rate // window_s)]
        binding.apply(robot, engine.run(binding.inputs(robot, target)))
        robot.step_policy(decimation)
        trace.add(robot.time, target, robot.site_pose_in_base("ee")[0])
    return trace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="bundle directory or YAML")
    parser.add_argument("--sim-config", type=Path, default=task.HERE / "sim.yaml")
    parser.add_argument("--duration", type=float, default=20.0, help="simulated seconds")
    parser.add_argument("--window", type=float, default=task.RESAMPLING_TIME_S, help="seconds per target")
    parser.add_argument("--seed", type=int, default=3, help="seed of the target sequence")
    parser.add_argument("--plot", type=Path, help="write a PNG of commanded vs achieved EE position")
    parser.add_argument("--json", type=Path, help="write the metrics to this file")
    args = parser.parse_args(argv)
    try:
        trace = run(args.bundle, args.sim_config, args.duration, args.window, args.seed)
    except LeappRosError as exc:
        print(f"run_bundle: error: {exc}", file=sys.stderr)
        return 2
    summary = {"bundle": str(args.bundle), **window_metrics(trace)}
    if args.plot:
        summary["plot"] = str(plot_trace(trace, args.plot, f"{task.TASK_ID}: commanded vs achieved (MuJoCo)"))
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
