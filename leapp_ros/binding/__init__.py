"""ROS-free binding plan: which message field fills which tensor slot, and where each output goes."""

from leapp_ros.binding.inputs import InputBinding, InputPlan, TopicInput
from leapp_ros.binding.outputs import GainOutput, MessageEncoder, OutputPlan, TargetOutput
from leapp_ros.binding.plan import BindingPlan, compile_plan
from leapp_ros.binding.report import binding_plan_dict, binding_plan_for_inspect, format_binding_plan
from leapp_ros.binding.roles import Role, classify
from leapp_ros.binding.settings import SOURCES, BindingSettings, PortOverride, TopicSpec

__all__ = ["BindingPlan", "BindingSettings", "GainOutput", "InputBinding", "InputPlan", "MessageEncoder",
           "OutputPlan", "PortOverride", "Role", "SOURCES", "TargetOutput", "TopicInput", "TopicSpec",
           "binding_plan_dict", "binding_plan_for_inspect", "classify", "compile_plan", "format_binding_plan"]
