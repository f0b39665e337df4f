"""leapp_ros: run LEAPP policy bundles exported from Isaac Lab on ROS 2 robots."""

__version__ = "0.1.0"
