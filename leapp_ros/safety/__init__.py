"""ROS-free safety layer: state machine, joint limits, output filters, input watchdog (see docs/safety.md)."""

from leapp_ros.safety.config import SafetyConfig
from leapp_ros.safety.factory import build_supervisor, resolve_limits
from leapp_ros.safety.filters import CommandMode, LimitClamp, RampIn, SafetyCommand, first_non_finite
from leapp_ros.safety.limits import JointLimit, JointLimits, parse_parameter_limits, parse_urdf_limits, read_urdf_file
from leapp_ros.safety.states import RECOVERABLE, Cause, SafetyState, Transition, TransitionLog
from leapp_ros.safety.supervisor import PolicyAction, SafetySupervisor, WatchedInput
from leapp_ros.safety.watchdog import DeadlineBurstDetector, InputLedger, InputWatchdog, stale_limit_s

__all__ = ["RECOVERABLE", "Cause", "CommandMode", "DeadlineBurstDetector", "InputLedger", "InputWatchdog", "JointLimit",
           "JointLimits", "LimitClamp", "PolicyAction", "RampIn", "SafetyCommand", "SafetyConfig", "SafetyState",
           "SafetySupervisor", "Transition", "TransitionLog", "WatchedInput", "build_supervisor", "first_non_finite",
           "parse_parameter_limits", "parse_urdf_limits", "read_urdf_file", "resolve_limits", "stale_limit_s"]
