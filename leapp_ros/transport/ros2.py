"""rclpy adapter: the Transport interface over a real ROS 2 node (Humble and later).

Threading: a single-threaded executor (``make_executor``: rclpy's EventsExecutor where available, else the
SingleThreadedExecutor) spins the node on a daemon thread ("leapp-rclpy-spin"), so callbacks run one at a
time on that thread (a ``MultiThreadedExecutor`` starved the deploy node's tick
thread of the GIL: see docs/performance.md). Numeric sequences arrive as ``array.array`` and fixed-size arrays as
numpy arrays: read them with ``np.asarray``.

``ros_args`` (``--ros-args ...`` only) go to ``rclpy.init`` when this transport starts the ROS context; the
process's own ``sys.argv`` never does. rclpy's signal handlers are not installed: the process handles SIGINT
and SIGTERM and shuts the transport down after its last (safe) command.

Pass ``node=`` to reuse the caller's node (e.g. an ``rclpy.lifecycle.Node``); then the node is not destroyed
at shutdown, and ``spin=False`` leaves spinning to the caller.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

from leapp_ros.transport.base import MessageCallback, QosProfile, ServiceHandler
from leapp_ros.transport.errors import TransportError


def _import_rclpy() -> Any:
    try:
        import rclpy
    except ImportError as exc:
        raise TransportError("the rclpy transport needs ROS 2: source /opt/ros/<distro>/setup.bash, or "
                             "pip install the ROS 2 Jazzy wheels (pip install -e .[ros], CPython 3.11), "
                             "or use the 'dds' transport") from exc
    return rclpy


@functools.cache
def interface_class(type_name: str, kind: str = "msg") -> type:
    """The rclpy class for ``pkg/msg/Name`` (or ``pkg/srv/Name``), imported from ``<pkg>.<kind>``.

    ``pkg/Name`` is accepted too. This is what ``rosidl_runtime_py.utilities.get_message`` does; that package
    is not part of the pip-installable ROS 2 wheels, so the lookup is done here.
    """
    parts = type_name.split("/")
    if len(parts) == 2:
        parts = [parts[0], kind, parts[1]]
    if len(parts) != 3 or parts[1] != kind or not all(parts):
        raise TransportError(f"unknown ROS {kind} type {type_name!r}: expected 'pkg/{kind}/Name'")
    package, _, name = parts
    try:
        module = importlib.import_module(f"{package}.{kind}")
    except ImportError as exc:
        raise TransportError(f"unknown ROS {kind} type {type_name!r}: cannot import {package}.{kind} ({exc}); "
                             f"install the package's Python bindings (ros-<distro>-{package.replace('_', '-')})"
                             ) from None
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        raise TransportError(f"unknown ROS {kind} type {type_name!r}: {package}.{kind} has no {name}")
    return cls


def split_ros_arguments(argv: list[str]) -> tuple[list[str], list[str]]:
    """(ROS arguments: every `--ros-args ... [--]` section, the rest). rcl reads only the former."""
    ros: list[str] = []
    rest: list[str] = []
    inside = False
    for arg in argv:
        if arg == "--ros-args":
            inside = True
            ros.append(arg)
        elif inside and arg == "--":
            inside = False
        elif inside:
            ros.append(arg)
        else:
            rest.append(arg)
    return ros, rest


def make_executor(context: Any = None) -> Any:
    """The single-threaded executor every leapp_ros rclpy process spins.

    Default: rclpy's EventsExecutor (``rclpy.experimental``, Jazzy and later: a C++ event queue that costs about
    half the CPU per message of the SingleThreadedExecutor and kept the 200-500 Hz tick's deadlines better, see
    docs/performance.md), else the SingleThreadedExecutor; ``LEAPP_ROS_EXECUTOR=single|events`` chooses. A
    MultiThreadedExecutor is never used: its threads starve the tick thread of the GIL."""
    from rclpy.executors import SingleThreadedExecutor

    choice = os.environ.get("LEAPP_ROS_EXECUTOR", "").strip().lower()
    if choice not in ("", "single", "events"):
        raise TransportError(f"LEAPP_ROS_EXECUTOR must be 'single' or 'events', got {choice!r}")
    if choice != "single":
        try:
            from rclpy.experimental.events_executor import EventsExecutor
        except ImportError:
            if choice == "events":
                raise TransportError("LEAPP_ROS_EXECUTOR=events: this rclpy has no EventsExecutor "
                                     "(rclpy.experimental, Jazzy and later)") from None
        else:
            return EventsExecutor(context=context)
    return SingleThreadedExecutor(context=context)


def init_rclpy(rclpy: Any, args: list[str] | None = None) -> None:
    """``rclpy.init`` with only ROS arguments and without rclpy's signal handlers: the caller handles SIGINT
    and SIGTERM itself so that the safe command is published before the context shuts down."""
    from rclpy.signals import SignalHandlerOptions

    rclpy.init(args=args or [], signal_handler_options=SignalHandlerOptions.NO)
    hint = fastdds_type_propagation_hint()
    if hint:
        logging.getLogger("leapp_ros.transport").warning(hint)


INTEROP_PROFILE = Path(__file__).with_name("fastdds_interop.xml")
_FAST_DDS_2_DISTROS = ("foxy", "galactic", "humble", "iron", "jazzy")


def fastdds_type_propagation_hint() -> str | None:
    """The fix to print when this process runs Fast DDS 3 (ROS 2 Kilted and later, rmw_fastrtps_cpp) with its
    default type propagation and no Fast DDS profile: Cyclone DDS peers (this package's DDS transport,
    rmw_cyclonedds robots) then match only the simplest types. None when that does not apply."""
    import rclpy.utilities

    if rclpy.utilities.get_rmw_implementation_identifier() != "rmw_fastrtps_cpp":
        return None
    if os.environ.get("FASTDDS_DEFAULT_PROFILES_FILE") or os.environ.get("FASTRTPS_DEFAULT_PROFILES_FILE"):
        return None  # the user configures Fast DDS; the profile decides
    distro = os.environ.get("ROS_DISTRO", "").strip().lower()
    if not distro:
        try:
            from importlib.metadata import version
            distro = "jazzy" if int(version("rclpy").split(".")[0]) < 8 else "kilted"  # rclpy 9 = Kilted
        except Exception:  # noqa: BLE001 - unknown install layout: say nothing rather than guess
            return None
    if distro in _FAST_DDS_2_DISTROS:
        return None
    return (f"Fast DDS 3 (ROS 2 {distro}) propagates type information that Cyclone DDS peers (rmw_cyclonedds, "
            f"leapp_ros's DDS transport) refuse: with them only the simplest types get through. Fix: "
            f"export FASTDDS_DEFAULT_PROFILES_FILE={INTEROP_PROFILE} (fastdds.type_propagation=disabled) for "
            f"this process and the robot's Fast DDS processes (docs/transport.md)")


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
    """Transport over an rclpy node, spun by a single-threaded executor in a background thread."""

    name = "rclpy"

    def __init__(self, node_name: str = "leapp_policy", namespace: str = "/", *, node: Any = None,
                 use_sim_time: bool = False, spin: bool = True, ros_args: list[str] | None = None) -> None:
        rclpy = _import_rclpy()
        from rclpy.parameter import Parameter

        self._rclpy = rclpy
        self._owns_context = False
        self._owns_node = node is None
        if node is None:
            if not rclpy.ok():
                init_rclpy(rclpy, ["leapp_ros", *ros_args] if ros_args else None)
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
        self._stop_spin = threading.Event()
        self._executor = None
        self._thread: threading.Thread | None = None
        if spin:
            self._executor = make_executor(context=node.context)
            self._executor.add_node(node)
            self._thread = threading.Thread(target=self._spin, name="leapp-rclpy-spin", daemon=True)
            self._thread.start()

    def _spin(self) -> None:
        """Short spins until shutdown: the executor is then idle when it is removed and shut down (an
        EventsExecutor spinning in another thread does not return on shutdown())."""
        assert self._executor is not None
        while not self._stop_spin.is_set() and self.node.context.ok():
            self._executor.spin_once(timeout_sec=0.05)

    def resolve_topic(self, name: str) -> str:
        return self.node.resolve_topic_name(name)  # expansion + remapping, as rcl does (rclpy >= Humble)

    def message_class(self, type_name: str) -> type:
        return interface_class(type_name, "msg")

    def new_message(self, type_name: str, **fields: Any) -> Any:
        cls: Any = self.message_class(type_name)  # a rosidl message class
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
        return self.node.create_service(interface_class(srv_type, "srv"), name, handler)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_spin.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        if self._executor is not None:
            self._executor.remove_node(self.node)
            self._executor.shutdown()
        if self._owns_node:
            self.node.destroy_node()
        if self._owns_context and self._rclpy.ok():
            self._rclpy.shutdown()
