"""Publish the ROS node graph on ``ros_discovery_info`` (ParticipantEntitiesInfo) so ``ros2 node list`` sees us."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import numpy as np

from leapp_ros.transport.dds_qos import discovery_info_qos
from leapp_ros.transport.dds_raw import pad4, write_cdr

DISCOVERY_TOPIC = "ros_discovery_info"  # no rt/ prefix: an rmw-internal topic
DISCOVERY_TYPE = "rmw_dds_common/msg/ParticipantEntitiesInfo"


def gid_size(typestore: Any) -> int:
    """Bytes in ``rmw_dds_common/msg/Gid`` for this distro: 24 on Humble, 16 from Iron on."""
    _, ((_, (_, (_, size))),) = typestore.fielddefs["rmw_dds_common/msg/Gid"]
    return int(size)


def make_gid(typestore: Any, guid: uuid.UUID) -> Any:
    """A Gid message from a DDS GUID: its 16 bytes, zero-padded to the distro's Gid size (rmw convert_guid_to_gid)."""
    data = np.zeros(gid_size(typestore), dtype=np.uint8)
    data[:16] = np.frombuffer(guid.bytes, dtype=np.uint8)
    return typestore.types["rmw_dds_common/msg/Gid"](data=data)


class NodeGraphAnnouncer:
    """Keeps one ParticipantEntitiesInfo sample (this participant, one node, its readers and writers) published."""

    def __init__(self, participant: Any, idl_class: type, typestore: Any, node_namespace: str, node_name: str,
                 user_data: bytes | None) -> None:
        from cyclonedds.pub import DataWriter
        from cyclonedds.topic import Topic

        self._typestore = typestore
        self._participant_guid: uuid.UUID = participant.guid
        self._namespace = node_namespace
        self._name = node_name
        self._lock = threading.Lock()
        self._readers: dict[int, uuid.UUID] = {}
        self._writers: dict[int, uuid.UUID] = {}
        qos = discovery_info_qos(reader=False, user_data=user_data)
        self.topic: Any = Topic(participant, DISCOVERY_TOPIC, idl_class)
        self.writer = DataWriter(participant, self.topic, qos=qos)

    def add(self, entity: Any, is_reader: bool) -> None:
        """Record a reader/writer of the node and republish."""
        with self._lock:
            (self._readers if is_reader else self._writers)[id(entity)] = entity.guid
            self._publish_locked()

    def remove(self, entity: Any) -> None:
        """Forget a reader/writer of the node and republish."""
        with self._lock:
            self._readers.pop(id(entity), None)
            self._writers.pop(id(entity), None)
            self._publish_locked()

    def publish(self) -> None:
        """(Re)publish the current graph sample."""
        with self._lock:
            self._publish_locked()

    def _publish_locked(self) -> None:
        ts = self._typestore
        node = ts.types["rmw_dds_common/msg/NodeEntitiesInfo"](
            node_namespace=self._namespace, node_name=self._name,
            reader_gid_seq=[make_gid(ts, g) for g in self._readers.values()],
            writer_gid_seq=[make_gid(ts, g) for g in self._writers.values()])
        info = ts.types[DISCOVERY_TYPE](gid=make_gid(ts, self._participant_guid), node_entities_info_seq=[node])
        write_cdr(self.writer, pad4(ts.serialize_cdr(info, DISCOVERY_TYPE)))
