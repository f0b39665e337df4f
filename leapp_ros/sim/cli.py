"""``leapp-ros sim`` / ``ros2 run leapp_ros sim``: a MuJoCo robot on ROS topics, from a sim YAML."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path

from leapp_ros.errors import LeappRosError

DESCRIPTION = """Simulate a robot in MuJoCo and expose it like a robot driver: joint_states, IMU,
odometry and /clock out; joint targets (Float64MultiArray, JointTrajectory or JointState) plus
<targets>/kp and /kd in; ~/reset (std_msgs/Empty topic, std_srvs/Trigger service with rclpy)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leapp-ros sim", description=DESCRIPTION)
    parser.add_argument("config", type=Path, help="sim YAML (robot: model, joints, gains ...; node: topics, rates)")
    parser.add_argument("--transport", choices=("auto", "dds", "rclpy"), default="auto",
                        help="auto: rclpy when it imports, else Cyclone DDS (default: auto)")
    parser.add_argument("--node-name", default="sim")
    parser.add_argument("--namespace", default="/")
    parser.add_argument("--discovery", choices=("loopback", "system"), default="loopback",
                        help="DDS only: 'loopback' (default) finds peers on this host only (127.0.0.1); 'system' "
                             "uses CYCLONEDDS_URI or Cyclone's defaults, to reach peers on other hosts")
    parser.add_argument("--duration", type=float, default=0.0, help="simulated seconds to run (0 = until Ctrl-C)")
    parser.add_argument("--real-time-factor", type=float, help="1 = real time (default from the YAML), 0 = fast")
    parser.add_argument("--fast", action="store_true", help="as fast as possible (--real-time-factor 0)")
    parser.add_argument("--targets-topic", help="override node.targets_topic")
    parser.add_argument("--targets-type", help="override node.targets_type (a ROS type name)")
    parser.add_argument("--delay-steps", type=int, help="override robot.delay_steps (actuator delay)")
    parser.add_argument("--no-gravity-compensation", action="store_true",
                        help="override robot.gravity_compensation to false")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 and one line on stderr for bad input)."""
    from leapp_ros.transport.ros2 import split_ros_arguments

    # `ros2 run`/`ros2 launch` append ROS arguments: rclpy reads them, argparse must not
    ros_args, args_list = split_ros_arguments(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(args_list)
    logging.basicConfig(level=args.log_level.upper(), format="[%(levelname)s] [%(name)s] %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    transport = node = None
    try:
        from leapp_ros.sim.config_file import load_sim_file
        from leapp_ros.sim.node import SimNode
        from leapp_ros.sim.robot import SimRobot
        from leapp_ros.sim.settings import NODE_KEYS, SimNodeSettings

        sim = load_sim_file(args.config, NODE_KEYS)
        robot_cfg = sim.robot
        if args.delay_steps is not None:
            robot_cfg = replace(robot_cfg, delay_steps=args.delay_steps)
        if args.no_gravity_compensation:
            robot_cfg = replace(robot_cfg, gravity_compensation=False)
        node_values = dict(sim.node)
        for key, value in (("targets_topic", args.targets_topic), ("targets_type", args.targets_type),
                           ("real_time_factor", 0.0 if args.fast else args.real_time_factor)):
            if value is not None:
                node_values[key] = value
        settings = SimNodeSettings.from_mapping(node_values)
        robot = SimRobot(sim.model, robot_cfg)

        from leapp_ros.transport import make_transport
        from leapp_ros.transport.factory import rclpy_available

        kind = args.transport
        kwargs = {"discovery": args.discovery} if kind == "dds" or (kind == "auto" and not rclpy_available()) else {}
        if not kwargs:
            kwargs = {"ros_args": ros_args}
        transport = make_transport(kind, args.node_name, args.namespace, **kwargs)
        from leapp_ros.transport.ros_logging import bridge_transport
        bridge_transport(transport, args.log_level)  # rclpy: ROS logging (/rosout) for the sim's loggers
        node = SimNode(transport, robot, settings)
        logging.getLogger("leapp_ros.sim").info(
            "simulating %s: %d joints, physics %.4g s, state %.0f Hz, real-time factor %s, targets %s on '%s'",
            sim.model.name, len(robot.joint_names), robot.physics_dt, 1.0 / (node.publish_every * robot.physics_dt),
            settings.real_time_factor or "fast", settings.targets_type, settings.targets_topic)
        node.run(duration_s=args.duration, stop=stop)
        return 0
    except LeappRosError as exc:
        print(f"leapp-ros sim: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if node is not None:
            node.close()
        if transport is not None:
            transport.shutdown()


if __name__ == "__main__":
    sys.exit(main())
