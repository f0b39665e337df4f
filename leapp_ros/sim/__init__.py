"""MuJoCo sim-to-sim bridge: a ROS-free simulated robot (core) plus the node that puts it on topics."""

from leapp_ros.sim.actuation import CommandDelay, pd_torque
from leapp_ros.sim.config import SimRobotConfig
from leapp_ros.sim.joint_map import JointMap
from leapp_ros.sim.quaternion import quat_order, reorder_quat
from leapp_ros.sim.robot import BaseOdometry, ImuReading, SimRobot, load_model

__all__ = ["BaseOdometry", "CommandDelay", "ImuReading", "JointMap", "SimRobot", "SimRobotConfig",
           "load_model", "pd_torque", "quat_order", "reorder_quat"]
