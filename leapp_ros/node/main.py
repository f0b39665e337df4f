"""`ros2 run leapp_ros deploy` / `python -m leapp_ros.node.main`: the deploy node as an rclpy lifecycle node.

One single-threaded executor runs every ROS callback (lifecycle services, parameters, subscriptions) on the
main thread; the control tick runs on its own deadline thread. SIGINT and SIGTERM are handled here (not by
rclpy) so that the shutdown transition publishes the safety layer's command before the context goes away.
"""

from __future__ import annotations

import signal
import sys
import threading

from leapp_ros.transport.ros2 import make_executor, split_ros_arguments


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    ros_args, rest = split_ros_arguments(args)
    if rest in (["-h"], ["--help"]):
        print("usage: deploy --ros-args -p bundle:=/path/policy.yaml [-p name:=value ...] [--params-file FILE]\n"
              "Parameters: docs/deploy.md (or `ros2 param describe` on the running node).")
        return 0
    if rest:
        print(f"deploy: error: unexpected arguments {rest}; give parameters as --ros-args -p name:=value",
              file=sys.stderr)
        return 2
    try:
        import rclpy
        from rclpy.executors import ExternalShutdownException
    except ImportError:
        print("deploy: error: rclpy is not importable: source your ROS 2 setup, or pip install the ROS 2 wheels "
              "(docs/deploy.md), or run without ROS: leapp-ros run BUNDLE.yaml --transport dds", file=sys.stderr)
        return 2
    from leapp_ros.node.ros_lifecycle import make_lifecycle_node
    from leapp_ros.transport.ros2 import init_rclpy  # noqa: PLC0415 - after the rclpy import check

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    init_rclpy(rclpy, ["deploy", *ros_args])
    node = None
    code = 0
    try:
        node = make_lifecycle_node()
        executor = make_executor()
        executor.add_node(node)
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=0.1)  # returns to Python often, so the signal handler runs promptly
    except ExternalShutdownException:
        pass
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback, for a node that cannot start
        print(f"deploy: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 2
    finally:
        if node is not None:
            node.finalize()  # shutdown transition: the safety layer's shutdown command, lifecycle finalized
            node.get_logger().info("finalized")
            node.destroy_node()
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


if __name__ == "__main__":
    sys.exit(main())
