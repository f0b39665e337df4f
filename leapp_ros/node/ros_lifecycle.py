"""The deploy node as an rclpy lifecycle (managed) node: declared and validated parameters, lifecycle callbacks,
autostart and ROS logging for the product's loggers."""

from __future__ import annotations

from typing import Any

from leapp_ros.errors import LeappRosError
from leapp_ros.message_types import STRING
from leapp_ros.node import parameters as P
from leapp_ros.node.deploy import DeployNode
from leapp_ros.node.lifecycle import State as LifecycleState

_ROS_TYPES = {"string": "PARAMETER_STRING", "double": "PARAMETER_DOUBLE", "integer": "PARAMETER_INTEGER",
              "bool": "PARAMETER_BOOL", "string_array": "PARAMETER_STRING_ARRAY",
              "double_array": "PARAMETER_DOUBLE_ARRAY", "integer_array": "PARAMETER_INTEGER_ARRAY"}


def _coerced(value: Any, type_name: str) -> Any:
    """An override written as an int where a double is declared (`rate_hz: 100`) becomes that double."""
    if type_name == "double" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type_name == "double_array" and isinstance(value, (list, tuple)) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return [float(v) for v in value]
    return value


def make_lifecycle_node(node_name: str = P.NODE_NAME, **node_kwargs: Any) -> Any:
    """Build the rclpy lifecycle node (rclpy imported here: the rest of leapp_ros never needs it)."""
    from rcl_interfaces.msg import ParameterDescriptor, ParameterType, SetParametersResult
    from rclpy.lifecycle import Node as LifecycleNode
    from rclpy.lifecycle import State, TransitionCallbackReturn
    from rclpy.parameter import Parameter

    from leapp_ros.transport.ros_logging import bridge_to_ros

    _EMPTY_ARRAY_TYPES = {"string_array": Parameter.Type.STRING_ARRAY, "integer_array": Parameter.Type.INTEGER_ARRAY,
                          "double_array": Parameter.Type.DOUBLE_ARRAY}
    from leapp_ros.transport.ros2 import RclpyTransport

    class LeappDeployNode(LifecycleNode):
        """`ros2 lifecycle set /leapp_deploy configure|activate|deactivate|cleanup|shutdown`."""

        def __init__(self) -> None:
            super().__init__(node_name, **node_kwargs)
            self.log_handler = bridge_to_ros(self.get_logger())
            self._specs: dict[str, P.ParameterSpec] = {}
            self._declare([*P.PARAMETERS, *P.safety_specs()])
            self._declare_bundle_families(str(self.get_parameter("bundle").value))
            self._declare_remaining_overrides()
            self.add_on_set_parameters_callback(self._on_set_parameters)
            self.transport = RclpyTransport(node=self, spin=False)
            self.core = DeployNode(self.transport, self._parameter_values(), topic_lifecycle=False)
            self._activation_timer: Any = None
            self._waiting_for: str | None = None
            if self.get_parameter("autostart").value:
                self._start_timer = self.create_timer(0.1, self._autostart_once)

        # -------------------------------------------------------------- parameters
        def _declare(self, specs: list[P.ParameterSpec]) -> None:
            """Declare each spec with its default (or the override given at start-up, coerced to its type)."""
            overrides = self._parameter_overrides  # rclpy's start-up values (--ros-args -p / params files)
            for spec in specs:
                if self.has_parameter(spec.name):
                    continue
                self._specs[spec.name] = spec
                descriptor = ParameterDescriptor(
                    description=f"{spec.description} ({P.EFFECT_TEXT[spec.when]})",
                    type=getattr(ParameterType, _ROS_TYPES[spec.type_name]), read_only=spec.when == P.AT_START)
                if spec.name in overrides:
                    value = _coerced(overrides[spec.name].value, spec.type_name)
                    overrides[spec.name] = Parameter(spec.name, value=value)
                array_type = _EMPTY_ARRAY_TYPES.get(spec.type_name)
                if array_type is not None and not spec.default:
                    # `[]` would be typed as a byte array: declare the type, then set the typed empty value
                    self.declare_parameter(spec.name, array_type, descriptor)
                    if self.get_parameter_or(spec.name).type_ == Parameter.Type.NOT_SET:
                        self.set_parameters([Parameter(spec.name, array_type, [])])
                else:
                    self.declare_parameter(spec.name, spec.default, descriptor)

        def _declare_bundle_families(self, bundle_path: str) -> None:
            """`ports.*` and `joint_limits.*` of the bundle named by the `bundle` parameter (when it loads)."""
            if not bundle_path:
                return
            from leapp_ros.bundle import load_bundle
            try:
                bundle = load_bundle(bundle_path)
            except LeappRosError:
                return  # configure reports it with the reason
            self._declare(P.bundle_specs(bundle))

        def _declare_remaining_overrides(self) -> None:
            """Start-up values outside the schema (per-joint safety mappings, `ports.*.required`, typos):
            declared as given; configure refuses unknown names with the list of known ones."""
            for name, parameter in self._parameter_overrides.items():
                if not self.has_parameter(name):
                    self.declare_parameter(name, parameter.value,
                                           ParameterDescriptor(description="given at start-up",
                                                               dynamic_typing=True))

        def _parameter_values(self) -> dict[str, Any]:
            names = self.list_parameters([], 0).names
            return P.explicit({p.name: p.value for p in self.get_parameters(names)})

        def _on_set_parameters(self, parameters: list[Any]) -> Any:
            """Refuse a set that configure would refuse (with its reason); accepted ones are logged with when
            they take effect."""
            if not all(self.has_parameter(p.name) for p in parameters):
                return SetParametersResult(successful=True)  # a declaration in progress (bundle families)
            changes = {p.name: _coerced(p.value, self._specs[p.name].type_name) if p.name in self._specs
                       else p.value for p in parameters}
            values = {p.name: p.value for p in self.get_parameters(self.list_parameters([], 0).names)}
            values.update(changes)
            reason = P.validate(values)
            if reason is not None:
                return SetParametersResult(successful=False, reason=reason)
            state = self.core.lifecycle.state.value
            effects = sorted({P.EFFECT_TEXT[self._specs[n].when if n in self._specs else P.AT_CONFIGURE]
                              for n in changes if not P.is_ros_owned(n)})
            if effects:
                self.get_logger().info(f"parameters {sorted(changes)} set ({'; '.join(effects)}; "
                                       f"the node is {state})")
            return SetParametersResult(successful=True, reason="; ".join(effects))

        # -------------------------------------------------------------- autostart
        def _autostart_once(self) -> None:
            self._start_timer.cancel()  # one shot, once the executor spins
            if self._activation_timer is not None or self.core.lifecycle.state is not LifecycleState.UNCONFIGURED:
                return
            self.trigger_configure()
            if self._lifecycle_state() is LifecycleState.INACTIVE:  # configure may have failed
                self._activation_timer = self.create_timer(0.1, self._try_activate)

        def _lifecycle_state(self) -> LifecycleState:
            return self.core.lifecycle.state

        def _try_activate(self) -> None:
            """Activate as soon as every required input has arrived; say once (at INFO) what it waits for."""
            if self.core.lifecycle.state is LifecycleState.INACTIVE and self.core.plan is not None:
                missing = self.core.plan.inputs.missing()
                if missing:
                    waiting = "; ".join(missing)
                    if waiting != self._waiting_for:
                        self.get_logger().info(f"autostart: waiting for the required inputs: {waiting}")
                        self._waiting_for = waiting
                    return
                self.trigger_activate()
            if self.core.lifecycle.state is not LifecycleState.INACTIVE:
                self._activation_timer.cancel()

        # -------------------------------------------------------------- lifecycle callbacks
        def _run(self, step: Any, name: str) -> Any:
            try:
                step()
            except LeappRosError as exc:
                self.get_logger().error(f"{name} failed: {exc}")
                return TransitionCallbackReturn.FAILURE
            return TransitionCallbackReturn.SUCCESS

        def on_configure(self, state: State) -> Any:
            self._declare_bundle_families(str(self.get_parameter("bundle").value))
            try:
                params = P.resolve(self._parameter_values())
            except LeappRosError as exc:
                self.get_logger().error(f"configure failed: {exc}")
                return TransitionCallbackReturn.FAILURE
            if not params["robot_description"] and not params["urdf_file"]:
                params["robot_description"] = self._latched_robot_description(params)
                params["robot_description_topic"] = ""  # read here: the core must not wait for it again
            self.core.params = params
            return self._run(self.core.configure, "configure")

        def _latched_robot_description(self, params: dict[str, Any]) -> str:
            """The URDF from the latched robot_description topic, read with its own wait set: this runs inside
            the executor's callback, so a subscription callback could not be delivered until it returns."""
            from rclpy.wait_for_message import wait_for_message

            from leapp_ros.transport import LATCHED
            from leapp_ros.transport.ros2 import interface_class, to_rclpy_qos

            topic, wait_s = str(params["robot_description_topic"]), float(params["robot_description_wait_s"])
            if not topic or wait_s <= 0:
                return ""
            ok, msg = wait_for_message(interface_class(STRING), self, topic,
                                       qos_profile=to_rclpy_qos(LATCHED), time_to_wait=wait_s)
            if not ok:
                return ""
            self.get_logger().info(f"joint limits: URDF from the latched topic {topic} ({len(msg.data)} characters)")
            return str(msg.data)

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

        def finalize(self) -> None:
            """The shutdown transition from whatever state the node is in (the safety layer's shutdown command
            is published once); a no-op once finalized."""
            if self._state_machine.current_state[1] in ("unconfigured", "inactive", "active"):
                self.trigger_shutdown()
            self.core.shutdown()

    return LeappDeployNode()

