"""The middleware interface the deploy node and the sim bridge use: QoS profiles, Transport, Publisher, Subscription.

Usage::

    from leapp_ros.transport import DEFAULT, SENSOR_DATA, make_transport

    transport = make_transport("auto", node_name="policy_node", namespace="/rl")
    pub = transport.create_publisher("~/action", "std_msgs/msg/Float64MultiArray", DEFAULT)
    transport.create_subscription("/joint_states", "sensor_msgs/msg/JointState", SENSOR_DATA,
                                  lambda msg: print(np.asarray(msg.position)))
    pub.publish(transport.new_message("std_msgs/msg/Float64MultiArray", data=[0.0, 1.0]))
    transport.shutdown()

Message objects expose fields by their ROS attribute names on every adapter (rosbags dataclasses on
DDS, rclpy message classes on rclpy). Numeric sequences are numpy arrays on DDS and
``array.array``/list (sequences) or numpy (fixed arrays) on rclpy: read them with ``np.asarray``.

Threading: callbacks run on a thread owned by the transport (never the caller's), one callback at a
time per transport unless an adapter documents otherwise; ``publish`` may be called from any thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

Reliability = Literal["reliable", "best_effort"]
Durability = Literal["volatile", "transient_local"]


@dataclass(frozen=True)
class QosProfile:
    """The QoS subset the node needs: reliability, durability and keep-last ``depth``."""

    reliability: Reliability = "reliable"
    durability: Durability = "volatile"
    depth: int = 10

    def __post_init__(self) -> None:
        if self.reliability not in ("reliable", "best_effort"):
            raise ValueError(f"QoS reliability must be 'reliable' or 'best_effort', got {self.reliability!r}")
        if self.durability not in ("volatile", "transient_local"):
            raise ValueError(f"QoS durability must be 'volatile' or 'transient_local', got {self.durability!r}")
        if not isinstance(self.depth, int) or self.depth < 1:
            raise ValueError(f"QoS depth must be an int >= 1, got {self.depth!r}")


# Same values as rmw's rmw_qos_profile_sensor_data / rmw_qos_profile_default, and the usual latched profile.
SENSOR_DATA = QosProfile("best_effort", "volatile", 5)
DEFAULT = QosProfile("reliable", "volatile", 10)
LATCHED = QosProfile("reliable", "transient_local", 1)
QOS_PROFILES: dict[str, QosProfile] = {"sensor_data": SENSOR_DATA, "default": DEFAULT, "latched": LATCHED}


def qos_profile(name: str) -> QosProfile:
    """The profile called `name` ('sensor_data', 'default' or 'latched')."""
    try:
        return QOS_PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown QoS profile {name!r}; use one of {', '.join(QOS_PROFILES)}") from None

MessageCallback = Callable[[Any], None]
ServiceHandler = Callable[[Any, Any], Any]  # (request, response) -> response, as in rclpy


@runtime_checkable
class Publisher(Protocol):
    """Sends messages of one type on one topic."""

    topic: str  # fully qualified ROS name

    def publish(self, msg: Any) -> None:
        """Send ``msg`` (a message object of this publisher's type)."""

    def close(self) -> None:
        """Destroy the publisher (idempotent)."""


@runtime_checkable
class Subscription(Protocol):
    """Receives messages of one type on one topic and hands them to a callback."""

    topic: str  # fully qualified ROS name

    def close(self) -> None:
        """Stop callbacks and destroy the subscription (idempotent)."""


@runtime_checkable
class Transport(Protocol):
    """One ROS node's worth of middleware: topics, optional services, ROS time."""

    name: str  # "dds" or "rclpy"
    node_name: str
    namespace: str

    def create_publisher(self, topic: str, type_name: str, qos: QosProfile) -> Publisher:
        """A publisher on ``topic`` (relative, absolute or ``~/`` private) for ``pkg/msg/Name``."""

    def create_subscription(self, topic: str, type_name: str, qos: QosProfile,
                            callback: MessageCallback) -> Subscription:
        """Call ``callback(msg)`` on a transport-owned thread for each valid message received."""

    def message_class(self, type_name: str) -> type:
        """The message class for ``pkg/msg/Name``."""

    def new_message(self, type_name: str, **fields: Any) -> Any:
        """A message with every field at its ROS default, then ``fields`` applied."""

    def now_ns(self) -> int:
        """ROS time in ns: system clock, or the latest /clock value when ``use_sim_time`` (0 before any)."""

    def resolve_topic(self, name: str) -> str:
        """Fully qualified ROS name for ``name`` with this node's name and namespace."""

    def count_publishers(self, topic: str) -> int:
        """How many publishers ``topic`` has now (DDS: writers matched by this node's subscription on it)."""

    def create_service(self, name: str, srv_type: str, handler: ServiceHandler) -> Any | None:
        """A service server, or None when the transport has no services (the caller uses topic equivalents)."""

    def shutdown(self) -> None:
        """Release threads and middleware entities; idempotent and quiet."""
