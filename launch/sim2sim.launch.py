"""Sim-to-sim: the MuJoCo sim node (a simulated robot driver) and the leapp_ros deploy node together.

    ros2 launch leapp_ros sim2sim.launch.py sim_config:=/path/examples/reach_arm/sim.yaml \
        bundle:=/path/examples/reach_arm/bundle/Leapp-Reach-Arm-v0 namespace:=arm

The sim publishes joint_states, imu/data, odom and /clock and takes joint_commands (+ /kp, /kd) in the
same namespace, which are the deploy node's default topics; the deploy node runs on /clock
(use_sim_time) and activates itself once the sim's state arrives (autostart). The deploy node's base_frame is
the sim's (node.base_frame in the sim YAML, base_link by default), so the PoseStamped targets it checks and
the sim's frames agree.
"""

from pathlib import Path

import yaml
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription

ARGUMENTS = {
    "sim_config": ("", "Sim YAML (robot: MJCF, joints, gains ...; node: topics, rates). Required."),
    "bundle": ("", "Path of the LEAPP bundle YAML (or its directory). Required."),
    "params_file": ("", "Parameter file of the deploy node (see config/deploy.yaml); empty = defaults."),
    "backend": ("auto", "Inference backend of the deploy node."),
    "namespace": ("", "Namespace of both nodes and of their relative topics."),
    "real_time_factor": ("1.0", "Sim speed: 1 = real time, 0 = as fast as possible."),
    "sim_node_name": ("sim", "Name of the sim node."),
    "log_level": ("info", "Logging level: debug | info | warn | error."),
}


def _sim_node(context, *_args, **_kwargs):
    value = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    if not value["sim_config"]:
        raise RuntimeError("sim2sim.launch.py needs sim_config:=<sim YAML> (e.g. examples/reach_arm/sim.yaml)")
    namespace = "/" + value["namespace"].strip("/")
    arguments = [value["sim_config"], "--transport", "rclpy", "--node-name", value["sim_node_name"],
                 "--namespace", namespace, "--real-time-factor", value["real_time_factor"],
                 "--log-level", {"warn": "warning"}.get(value["log_level"], value["log_level"])]
    return [Node(package="leapp_ros", executable="sim", name=value["sim_node_name"], namespace=value["namespace"],
                 arguments=arguments, output="screen", emulate_tty=True)]


def _sim_base_frame(sim_config: str) -> str:
    """node.base_frame of the sim YAML (the sim's default, base_link, when it states none)."""
    from leapp_ros.sim.settings import SimNodeSettings

    with open(sim_config, encoding="utf-8") as stream:
        node = (yaml.safe_load(stream) or {}).get("node") or {}
    return str(node.get("base_frame") or SimNodeSettings.base_frame)


def _deploy(context, *_args, **_kwargs):
    value = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    return [IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(Path(__file__).resolve().with_name("deploy.launch.py"))),
        launch_arguments={"bundle": value["bundle"], "params_file": value["params_file"],
                          "backend": value["backend"], "namespace": value["namespace"],
                          "base_frame": _sim_base_frame(value["sim_config"]),
                          "use_sim_time": "true", "autostart": "true", "log_level": value["log_level"]}.items())]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        *(DeclareLaunchArgument(name, default_value=default, description=text)
          for name, (default, text) in ARGUMENTS.items()),
        OpaqueFunction(function=_sim_node),
        OpaqueFunction(function=_deploy),
    ])
