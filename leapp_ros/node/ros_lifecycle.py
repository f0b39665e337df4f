"""The deploy node as an rclpy lifecycle (managed) node: declared parameters, lifecycle callbacks, autostart."""

from __future__ import annotations

from typing import Any

from leapp_ros.errors import LeappRosError
from leapp_ros.node import parameters as P
from leapp_ros.node.deploy import DeployNode
from leapp_ros.node.lifecycle import State as LifecycleState

_ROS_TYPES = {"string": "PARAMETER_STRING", "double": "PARAMETER_DOUBLE", "integer": "PARAMETER_INTEGER",
              "bool": "PARAMETER_BOOL", "string_array": "PARAMETER_STRING_ARRAY",
              "double_array": "PARAMETER_DOUBLE_ARRAY", "integer_array": "PARAMETER_INTEGER_ARRAY"}


def make_lifecycle_node(node_name: str = P.NODE_NAME, **node_kwargs: Any) -> Any:
    """Build the rclpy lifecycle node (rclpy imported here: the rest of leapp_ros never needs it)."""
    from rcl_interfaces.msg import ParameterDescriptor, ParameterType
    from rclpy.lifecycle import Node as LifecycleNode
    from rclpy.lifecycle import State, TransitionCallbackReturn
    from rclpy.parameter import Parameter

    from leapp_ros.transport.ros2 import RclpyTransport

    class LeappDeployNode(LifecycleNode):
        """`ros2 lifecycle set /leapp_deploy configure|activate|deactivate|cleanup|shutdown`."""

        def __init__(self) -> None:
            super().__init__(node_name, automatically_declare_parameters_from_overrides=True, **node_kwargs)
            for spec in P.PARAMETERS:  # `ports.*`, `safety.*`, `joint_limits.*` come in as overrides
                if self.has_parameter(spec.name):
                    continue
                descriptor = ParameterDescriptor(description=spec.description,
                                                 type=getattr(ParameterType, _ROS_TYPES[spec.type_name]))
                default = spec.default
                if spec.type_name == "string_array" and not default:
                    default = Parameter.Type.STRING_ARRAY  # an empty list would be typed as a byte array
                elif spec.type_name == "integer_array" and not default:
                    default = Parameter.Type.INTEGER_ARRAY
                self.declare_parameter(spec.name, default, descriptor)
            self.transport = RclpyTransport(node=self, spin=False)
            self.core = DeployNode(self.transport, self._parameter_values(), topic_lifecycle=False)
            self._activation_timer = None
            if self.get_parameter("autostart").value:
                self._start_timer = self.create_timer(0.1, self._autostart_once)

        def _parameter_values(self) -> dict[str, Any]:
            names = self.list_parameters([], 0).names
            return {p.name: p.value for p in self.get_parameters(names) if p.name != "use_sim_time"}

        def _autostart_once(self) -> None:
            self._start_timer.cancel()  # one shot, once the executor spins
            if self._activation_timer is not None or self.core.lifecycle.state is not LifecycleState.UNCONFIGURED:
                return
            self._activation_timer = self.create_timer(0.5, self._try_activate)
            self.trigger_configure()

        def _try_activate(self) -> None:
            if self.core.lifecycle.state is LifecycleState.INACTIVE:
                self.trigger_activate()
            if self.core.lifecycle.state in (LifecycleState.ACTIVE, LifecycleState.FINALIZED,
                                             LifecycleState.UNCONFIGURED):
                self._activation_timer.cancel()

        def _run(self, step: Any, name: str) -> Any:
            try:
                step()
            except LeappRosError as exc:
                self.get_logger().error(f"{name} failed: {exc}")
                return TransitionCallbackReturn.FAILURE
            return TransitionCallbackReturn.SUCCESS

        def on_configure(self, state: State) -> Any:
            self.core.params = P.resolve(self._parameter_values())
            return self._run(self.core.configure, "configure")

        def on_activate(self, state: State) -> Any:
            result = self._run(self.core.activate, "activate")
            if result == TransitionCallbackReturn.SUCCESS:
                super().on_activate(state)
            return result

        def on_deactivate(self, state: State) -> Any:
            super().on_deactivate(state)
            return self._run(self.core.deactivate, "deactivate")

        def on_cleanup(self, state: State) -> Any:
            return self._run(self.core.cleanup, "cleanup")

        def on_shutdown(self, state: State) -> Any:
            return self._run(self.core.shutdown, "shutdown")

        def on_error(self, state: State) -> Any:
            self.core.shutdown()
            return TransitionCallbackReturn.SUCCESS

    return LeappDeployNode()
