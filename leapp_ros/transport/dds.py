"""Cyclone DDS adapter speaking the ROS 2 wire format (rt/ topics, ROS DDS type names, XCDR1) without rclpy.

Messages are rosbags dataclasses (numeric sequences are numpy arrays); rosbags' CDR codec runs the hot path and
raw bytes move through cyclonedds' ``_clayer``. Generated ``IdlStruct`` classes only name the types for DDS.

Threading: every subscription callback runs on one daemon thread per transport ("leapp-dds-receive",
a WaitSet loop), one callback at a time; ``publish`` is safe from any thread. With ``receive="listener"``
callbacks run on Cyclone's own receive thread instead (kept for benchmarking; the WaitSet is the default).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, ClassVar, Literal

from leapp_ros.message_types import CLOCK
from leapp_ros.transport.base import MessageCallback, QosProfile, ServiceHandler
from leapp_ros.transport.dds_fastcdr import FixedCdr
from leapp_ros.transport.dds_qos import cyclone_qos
from leapp_ros.transport.dds_raw import pad4, require_cyclonedds, write_cdr
from leapp_ros.transport.dds_receive import DdsSubscription, WaitSetReceiver
from leapp_ros.transport.errors import TransportError
from leapp_ros.transport.names import dds_topic_name, normalize_namespace, resolve_topic, validate_node_name
from leapp_ros.transport.ros_types import (
    DEFAULT_DISTRO,
    check_type_name,
    get_ros_typestore,
    new_message,
    normalize_message,
    ros_type_hash,
)

LOG = logging.getLogger("leapp_ros.transport.dds")
Discovery = Literal["loopback", "system"]
CLOCK_QOS = QosProfile("best_effort", "volatile", 1)  # what rclpy's TimeSource subscribes /clock with


class DdsPublisher:
    """A DataWriter fed with rosbags-serialized CDR (fixed-layout CDR for the node's joint-vector messages)."""

    def __init__(self, topic: str, type_name: str, writer: Any, typestore: Any, transport: DdsTransport) -> None:
        self.topic = topic
        self.type_name = type_name
        self.writer = writer
        self._typestore = typestore
        self._transport = transport
        self._fixed = FixedCdr(type_name, typestore) if FixedCdr.supports(type_name) else None
        self._fixed_lock = threading.Lock()  # its buffer is reused: one encode + write at a time
        self.closed = False

    def publish(self, msg: Any) -> None:
        if self.closed:
            raise TransportError(f"publisher on {self.topic} is closed")
        if getattr(msg, "__msgtype__", None) != self.type_name:
            raise TransportError(f"publisher on {self.topic} sends {self.type_name}, got {type(msg).__name__}")
        if self._fixed is not None:
            with self._fixed_lock:
                fixed = self._fixed.encode(msg)
                if fixed is not None:
                    write_cdr(self.writer, fixed)
                    return
        try:
            cdr = self._typestore.serialize_cdr(msg, self.type_name)
        except Exception:  # lists where rosbags wants numpy arrays: convert once, then retry
            try:
                normalize_message(self._typestore, msg)
                cdr = self._typestore.serialize_cdr(msg, self.type_name)
            except Exception as exc:
                raise TransportError(f"cannot serialize {self.type_name} for {self.topic}: {exc}") from exc
        write_cdr(self.writer, pad4(cdr))

    def close(self) -> None:
        self._transport._close_endpoint(self)


class DdsTransport:
    """One ROS node on its own DDS participant (one per process), talking to ROS 2 peers over Cyclone DDS."""

    name = "dds"
    _active: ClassVar[DdsTransport | None] = None
    _active_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, node_name: str, namespace: str = "/", *, domain_id: int | None = None,
                 discovery: Discovery = "loopback", ros_distro: str = DEFAULT_DISTRO, use_sim_time: bool = False,
                 receive: Literal["waitset", "listener"] = "waitset") -> None:
        require_cyclonedds()
        from cyclonedds.core import Policy
        from cyclonedds.domain import Domain, DomainParticipant
        from cyclonedds.qos import Qos

        from leapp_ros.transport.dds_types import IdlTypeFactory
        from leapp_ros.transport.discovery import DISCOVERY_TYPE, NodeGraphAnnouncer
        from leapp_ros.transport.loopback import loopback_config_uri

        if discovery not in ("loopback", "system"):
            raise TransportError(f"DDS discovery must be 'loopback' or 'system', got {discovery!r}")
        if receive not in ("waitset", "listener"):
            raise TransportError(f"DDS receive mode must be 'waitset' or 'listener', got {receive!r}")
        self.node_name = validate_node_name(node_name)
        self.namespace = normalize_namespace(namespace)
        self.ros_distro = ros_distro
        self.typestore = get_ros_typestore(ros_distro)
        self.domain_id = _domain_id_from_env() if domain_id is None else int(domain_id)
        self.discovery = discovery
        self.use_sim_time = use_sim_time
        self._receive_mode = receive
        self._sim_time_ns = 0
        self._lock = threading.RLock()
        self._closed = False
        self._endpoints: list[Any] = []
        self._topics: dict[str, tuple[Any, str]] = {}
        with DdsTransport._active_lock:
            if DdsTransport._active is not None:
                raise TransportError("a DdsTransport is already running in this process (one DDS participant per "
                                     "process, as in ROS 2); shut it down first or share it")
            DdsTransport._active = self
        try:
            # Loopback: pin this domain to the shipped config regardless of CYCLONEDDS_URI.
            self._domain = Domain(self.domain_id, loopback_config_uri()) if discovery == "loopback" else None
            self.participant = DomainParticipant(self.domain_id, qos=Qos(Policy.Userdata(b"enclave=/;")))
            self._idl = IdlTypeFactory(self.typestore)
            self._graph = NodeGraphAnnouncer(self.participant, self._idl.get(DISCOVERY_TYPE), self.typestore,
                                             self.namespace, self.node_name, self._type_hash_user_data(DISCOVERY_TYPE))
            self._graph.publish()
            self._receiver = WaitSetReceiver(self.participant) if receive == "waitset" else None
            if use_sim_time:
                self.create_subscription("/clock", CLOCK, CLOCK_QOS, self._on_clock)
        except Exception as exc:
            self.shutdown()
            if isinstance(exc, TransportError):
                raise
            raise TransportError(f"could not start DDS on domain {self.domain_id} ({discovery} discovery): "
                                 f"{exc}") from exc
        LOG.info("DDS transport up: node %s, domain %d, %s discovery, %s message set",
                 self.fully_qualified_name, self.domain_id, discovery, ros_distro)

    @property
    def fully_qualified_name(self) -> str:
        return self.namespace.rstrip("/") + "/" + self.node_name

    # -- Transport interface -------------------------------------------------------------------------------------
    def resolve_topic(self, name: str) -> str:
        return resolve_topic(name, self.node_name, self.namespace)

    def message_class(self, type_name: str) -> type:
        check_type_name(self.typestore, type_name)
        return self.typestore.types[type_name]

    def new_message(self, type_name: str, **fields: Any) -> Any:
        return new_message(self.typestore, type_name, fields)

    def now_ns(self) -> int:
        return self._sim_time_ns if self.use_sim_time else time.time_ns()

    def create_service(self, name: str, srv_type: str, handler: ServiceHandler) -> None:
        """DDS has no ROS services here; the node uses its topic equivalents."""
        return None

    def count_publishers(self, topic: str) -> int:
        """Writers matched by this node's open subscription on ``topic`` (0 without one: DDS only matches readers)."""
        resolved = self.resolve_topic(topic)
        with self._lock:
            readers = [e.reader for e in self._endpoints
                       if isinstance(e, DdsSubscription) and not e.closed and e.topic == resolved]
            return max((len(reader.get_matched_publications()) for reader in readers), default=0)

    def create_publisher(self, topic: str, type_name: str, qos: QosProfile) -> DdsPublisher:
        from cyclonedds.pub import DataWriter

        with self._lock:
            resolved, dds_topic = self._topic(topic, type_name)
            writer = DataWriter(self.participant, dds_topic,
                                qos=cyclone_qos(qos, self._type_hash_user_data(type_name)))
            pub = DdsPublisher(resolved, type_name, writer, self.typestore, self)
            self._endpoints.append(pub)
            self._graph.add(writer, is_reader=False)
        return pub

    def create_subscription(self, topic: str, type_name: str, qos: QosProfile,
                            callback: MessageCallback) -> DdsSubscription:
        from cyclonedds.core import Listener
        from cyclonedds.sub import DataReader

        with self._lock:
            resolved, dds_topic = self._topic(topic, type_name)
            typestore = self.typestore
            sub = DdsSubscription(resolved, type_name, None,
                                  lambda cdr: typestore.deserialize_cdr(cdr, type_name), callback)
            listener = Listener(on_data_available=lambda _reader: sub.drain()) if self._receiver is None else None
            sub.reader = DataReader(self.participant, dds_topic,
                                    qos=cyclone_qos(qos, self._type_hash_user_data(type_name)), listener=listener)
            sub._close = self._close_endpoint
            self._endpoints.append(sub)
            self._graph.add(sub.reader, is_reader=True)
            if self._receiver is not None:
                self._receiver.add(sub)
        return sub

    def shutdown(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        receiver = getattr(self, "_receiver", None)
        if receiver is not None:
            receiver.stop()
        for endpoint in reversed(self._endpoints):
            self._close_endpoint(endpoint, republish=False)
        for name in ("_graph", "_receiver"):
            part = getattr(self, name, None)
            for attr in ("writer", "topic", "_waitset", "_wake"):
                _delete(getattr(part, attr, None))
        for dds_topic, _ in self._topics.values():
            _delete(dds_topic)
        _delete(getattr(self, "participant", None))
        _delete(getattr(self, "_domain", None))
        with DdsTransport._active_lock:
            if DdsTransport._active is self:
                DdsTransport._active = None

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _topic(self, topic: str, type_name: str) -> tuple[str, Any]:
        from cyclonedds.topic import Topic

        if self._closed:
            raise TransportError(f"transport of node {self.fully_qualified_name} is shut down")
        resolved = self.resolve_topic(topic)
        check_type_name(self.typestore, type_name)
        name = dds_topic_name(resolved)
        if name in self._topics:
            dds_topic, existing = self._topics[name]
            if existing != type_name:
                raise TransportError(f"topic {resolved} already has type {existing}, cannot also use {type_name}")
            return resolved, dds_topic
        dds_topic = Topic(self.participant, name, self._idl.get(type_name))
        self._topics[name] = (dds_topic, type_name)
        return resolved, dds_topic

    def _type_hash_user_data(self, type_name: str) -> bytes | None:
        if self.ros_distro == "humble":  # type hashes exist from Iron on
            return None
        return f"typehash={ros_type_hash(self.ros_distro, type_name)};".encode()

    def _close_endpoint(self, endpoint: Any, republish: bool = True) -> None:
        with self._lock:
            if endpoint.closed:
                return
            endpoint.closed = True
            if isinstance(endpoint, DdsSubscription):
                if self._receiver is not None:
                    self._receiver.remove(endpoint)
                entity = endpoint.reader
            else:
                entity = endpoint.writer
            if republish and not self._closed:
                self._graph.remove(entity)
            _delete(entity)

    def _on_clock(self, msg: Any) -> None:
        self._sim_time_ns = int(msg.clock.sec) * 1_000_000_000 + int(msg.clock.nanosec)


def _delete(entity: Any) -> None:
    """Delete a cyclonedds entity now (its ``__del__`` is idempotent and forgets the handle)."""
    if entity is not None:
        entity.__del__()


def _domain_id_from_env() -> int:
    import os

    raw = os.environ.get("ROS_DOMAIN_ID", "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or not 0 <= int(raw) <= 232:
        raise TransportError(f"ROS_DOMAIN_ID={raw!r} is not a domain id (0..232)")
    return int(raw)
