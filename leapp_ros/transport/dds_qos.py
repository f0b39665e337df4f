"""Map a ``QosProfile`` to Cyclone DDS QoS exactly as rmw_cyclonedds does (plus USER_DATA for type hashes)."""

from __future__ import annotations

from typing import Any

from leapp_ros.transport.base import QosProfile

_UNLIMITED = -1  # DDS_LENGTH_UNLIMITED


def cyclone_qos(qos: QosProfile, user_data: bytes | None = None) -> Any:
    """Cyclone ``Qos`` for a reader or writer with ``qos``; USER_DATA only when given (empty makes rmw warn)."""
    from cyclonedds.core import Policy
    from cyclonedds.qos import Qos
    from cyclonedds.util import duration

    history = Policy.History.KeepLast(qos.depth)
    policies: list[Any] = [
        Policy.Reliability.Reliable(max_blocking_time=duration(infinite=True))
        if qos.reliability == "reliable" else Policy.Reliability.BestEffort,
        history,
        # ROS writers never dispose on delete, so readers keep the last samples of a leaving writer.
        Policy.WriterDataLifecycle(autodispose=False),
        # XCDR1 only: what both DDS RMWs announce and accept.
        Policy.DataRepresentation(use_cdrv0_representation=True),
    ]
    if qos.durability == "transient_local":
        policies.append(Policy.Durability.TransientLocal)
        policies.append(Policy.DurabilityService(cleanup_delay=0, history=history, max_samples=_UNLIMITED,
                                                 max_instances=_UNLIMITED, max_samples_per_instance=_UNLIMITED))
    else:
        policies.append(Policy.Durability.Volatile)
    if user_data:
        policies.append(Policy.Userdata(user_data))
    return Qos(*policies)


def discovery_info_qos(reader: bool, user_data: bytes | None = None) -> Any:
    """QoS of ``ros_discovery_info``: reliable transient-local keep-last 1 writer, keep-all reader (rmw_node.cpp)."""
    from cyclonedds.core import Policy
    from cyclonedds.qos import Qos
    from cyclonedds.util import duration

    policies: list[Any] = [
        Policy.Reliability.Reliable(max_blocking_time=duration(infinite=True)),
        Policy.Durability.TransientLocal,
        Policy.History.KeepAll if reader else Policy.History.KeepLast(1),
        Policy.WriterDataLifecycle(autodispose=False),
        Policy.DataRepresentation(use_cdrv0_representation=True),
    ]
    if user_data:
        policies.append(Policy.Userdata(user_data))
    return Qos(*policies)
