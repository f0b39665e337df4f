"""rclpy adapter: the Transport interface over a real ROS 2 node (Humble and later).

Threading: a ``MultiThreadedExecutor`` spins the node on a daemon thread ("leapp-rclpy-spin").
Subscriptions and services use the node's default (mutually exclusive) callback group, so callbacks run
one at a time, on executor threads. Numeric sequences arrive as ``array.array`` and fixed-size arrays as
numpy arrays: read them with ``np.asarray``.

Pass ``node=`` to reuse the caller's node (e.g. an ``rclpy.lifecycle.Node``); then the node is not destroyed
at shutdown, and ``spin=False`` leaves spinning to the caller.
"""

from __future__ import annotations

import threading
from typing import Any

from leapp_ros.transport.base import MessageCallback, QosProfile, ServiceHandler
from leapp_ros.transport.errors import TransportError


def _import_rclpy() -> Any:
    try:
        import rclpy
    except ImportError as exc:
        raise TransportError("the rclpy transport needs ROS 2: source /opt/ros/<distro>/setup.bash "
                             "(or use the 'dds' transport)") from exc
    return rclpy


def to_rclpy_qos(qos: QosProfile) -> Any:
    """The ``rclpy.qos.QoSProfile`` for ``qos`` (keep-last ``depth``)."""
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=qos.depth,
        reliability=ReliabilityPolicy.RELIABLE if qos.reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT,
        durability=(DurabilityPolicy.TRANSIENT_LOCAL if qos.durability == "transient_local"
                    else DurabilityPolicy.VOLATILE),
    )


class RclpyPublisher:
    """An rclpy publisher; ``close`` destroys it on the node."""

    def __init__(self, node: Any, publisher: Any, topic: str) -> None:
        self.topic = topic
        self._node = node
        self._publisher = publisher
        self.closed = False

    def publish(self, msg: Any) -> None:
        self._publisher.publish(msg)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._node.destroy_publisher(self._publisher)


class RclpySubscription:
    """An rclpy subscription; ``close`` destroys it on the node."""

    def __init__(self, node: Any, subscription: Any, topic: str) -> None:
        self.topic = topic
        self._node = node
        self._subscription = subscription
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._node.destroy_subscription(self._subscription)


class RclpyTransport:
    """Transport over an rclpy node, spun by a MultiThreadedExecutor in a background thread."""

    name = "rclpy"

    def __init__(self, node_name: str = "leapp_policy", namespace: str = "/", *, node: Any = None,
                 use_sim_time: bool = False, spin: bool = True) -> None:
        rclpy = _import_rclpy()
        from rclpy.executors import MultiThreadedExecutor
        from rclpy.parameter import Parameter

        self._rclpy = rclpy
        self._owns_context = False
        self._owns_node = node is None
        if node is None:
            if not rclpy.ok():
                rclpy.init()
                self._owns_context = True
            from rclpy.node import Node

            node = Node(node_name, namespace=namespace,
                        parameter_overrides=[Parameter("use_sim_time", Parameter.Type.BOOL, use_sim_time)])
        elif use_sim_time:
            node.set_parameters([Parameter("use_sim_time", Parameter.Type.BOOL, True)])
        self.node = node
        self.node_name: str = node.get_name()
        self.namespace: str = node.get_namespace()
        self._closed = False
        self._executor = None
        self._thread: threading.Thread | None = None
        if spin:
            self._executor = MultiThreadedExecutor(context=node.context)
            self._executor.add_node(node)
            self._thread = threading.Thread(target=self._executor.spin, name="leapp-rclpy-spin", daemon=True)
            self._thread.start()

    def resolve_topic(self, name: str) -> str:
        return self.node.resolve_topic_name(name)  # expansion + remapping, as rcl does (rclpy >= Humble)

    def message_class(self, type_name: str) -> type:
        from rosidl_runtime_py.utilities import get_message

        try:
            return get_message(type_name)
        except (AttributeError, ModuleNotFoundError, ValueError) as exc:
            raise TransportError(f"unknown ROS message type {type_name!r}: {exc}") from exc

    def new_message(self, type_name: str, **fields: Any) -> Any:
        cls = self.message_class(type_name)
        known = set(cls.get_fields_and_field_types())
        unknown = sorted(set(fields) - known)
        if unknown:
            raise TransportError(f"{type_name} has no field(s) {unknown}; fields are {sorted(known)}")
        return cls(**fields)

    def now_ns(self) -> int:
        return int(self.node.get_clock().now().nanoseconds)

    def count_publishers(self, topic: str) -> int:
        return self.node.count_publishers(topic)

    def create_publisher(self, topic: str, type_name: str, qos: QosProfile) -> RclpyPublisher:
        pub = self.node.create_publisher(self.message_class(type_name), topic, to_rclpy_qos(qos))
        return RclpyPublisher(self.node, pub, pub.topic_name)

    def create_subscription(self, topic: str, type_name: str, qos: QosProfile,
                            callback: MessageCallback) -> RclpySubscription:
        sub = self.node.create_subscription(self.message_class(type_name), topic, callback, to_rclpy_qos(qos))
        return RclpySubscription(self.node, sub, sub.topic_name)

    def create_service(self, name: str, srv_type: str, handler: ServiceHandler) -> Any:
        from rosidl_runtime_py.utilities import get_service

        try:
            srv_class = get_service(srv_type)
        except (AttributeError, ModuleNotFoundError, ValueError) as exc:
            raise TransportError(f"unknown ROS service type {srv_type!r}: {exc}") from exc
        return self.node.create_service(srv_class, name, handler)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._executor is not None:
            self._executor.remove_node(self.node)
            self._executor.shutdown()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        if self._owns_node:
            self.node.destroy_node()
        if self._owns_context and self._rclpy.ok():
            self._rclpy.shutdown()
