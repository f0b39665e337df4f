"""Launch the leapp_ros deploy node (a lifecycle node) for one bundle.

    ros2 launch leapp_ros deploy.launch.py bundle:=/path/policy.yaml params_file:=/path/deploy.yaml \
        namespace:=robot1 autostart:=true

The parameter file should key its values with `/**:` (config/deploy.yaml does) so that they apply under any
namespace. Topic names in the parameter file are relative (joint_states, imu/data, cmd_vel, joint_commands ...), so they
compose with `namespace`; remap further by including this file with `remappings` or from the command line.
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode

from launch import LaunchDescription

ARGUMENTS = {
    "bundle": ("", "Path of the LEAPP bundle YAML (or its directory)."),
    "params_file": ("", "ROS 2 parameter file for the node (see config/deploy.yaml); empty = defaults."),
    "backend": ("auto", "Inference backend: auto | onnxruntime | torch | tensorrt ..."),
    "namespace": ("", "Namespace of the node and of its relative topics."),
    "node_name": ("leapp_deploy", "Node name."),
    "use_sim_time": ("false", "Use /clock (simulation) time."),
    "autostart": ("false", "Configure at start and activate once every required input has arrived."),
    "base_frame": ("", "Robot base frame for PoseStamped commands ('' = the parameter file's, else base_link)."),
    "log_level": ("info", "Logging level: debug | info | warn | error."),
}


def _node(context, *_args, **_kwargs):
    value = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    parameters = []
    if value["params_file"]:
        parameters.append(value["params_file"])
    overrides = {"backend": value["backend"], "use_sim_time": value["use_sim_time"].lower() == "true",
                 "autostart": value["autostart"].lower() == "true"}
    for name in ("bundle", "base_frame"):
        if value[name]:
            overrides[name] = value[name]
    parameters.append(overrides)  # launch arguments win over the parameter file
    return [LifecycleNode(
        package="leapp_ros", executable="deploy", name=value["node_name"], namespace=value["namespace"],
        parameters=parameters, output="screen", emulate_tty=True,
        arguments=["--ros-args", "--log-level", value["log_level"]])]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        *(DeclareLaunchArgument(name, default_value=default, description=text)
          for name, (default, text) in ARGUMENTS.items()),
        OpaqueFunction(function=_node),
    ])
