"""ROS 2 message type names used by the deploy node, the sim bridge and the tools (one place, no middleware)."""

from __future__ import annotations

# inputs and robot state
JOINT_STATE = "sensor_msgs/msg/JointState"
IMU = "sensor_msgs/msg/Imu"
ODOMETRY = "nav_msgs/msg/Odometry"
TWIST = "geometry_msgs/msg/Twist"
TWIST_STAMPED = "geometry_msgs/msg/TwistStamped"
POSE_STAMPED = "geometry_msgs/msg/PoseStamped"
CLOCK = "rosgraph_msgs/msg/Clock"

# outputs (joint targets and gains)
FLOAT64_MULTI_ARRAY = "std_msgs/msg/Float64MultiArray"
JOINT_TRAJECTORY = "trajectory_msgs/msg/JointTrajectory"
JOINT_TRAJECTORY_POINT = "trajectory_msgs/msg/JointTrajectoryPoint"

# node interface
STRING = "std_msgs/msg/String"
BOOL = "std_msgs/msg/Bool"
EMPTY = "std_msgs/msg/Empty"
DIAGNOSTIC_ARRAY = "diagnostic_msgs/msg/DiagnosticArray"
DIAGNOSTIC_STATUS = "diagnostic_msgs/msg/DiagnosticStatus"
KEY_VALUE = "diagnostic_msgs/msg/KeyValue"

# nested types
HEADER = "std_msgs/msg/Header"
TIME = "builtin_interfaces/msg/Time"
QUATERNION = "geometry_msgs/msg/Quaternion"
VECTOR3 = "geometry_msgs/msg/Vector3"
