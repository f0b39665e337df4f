"""`ros2 run leapp_ros deploy`: the deploy node as an rclpy lifecycle node (needs a sourced ROS 2)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    try:
        import rclpy
        from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
    except ImportError:
        print("leapp_ros deploy needs rclpy (source your ROS 2 setup). Without ROS use: "
              "leapp-ros run BUNDLE.yaml --transport dds", file=sys.stderr)
        return 1
    from leapp_ros.node.ros_lifecycle import make_lifecycle_node

    rclpy.init(args=sys.argv if argv is None else argv)
    node = None
    try:
        node = make_lifecycle_node()
        executor = MultiThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.core.shutdown()  # publishes the safety layer's shutdown command once
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
