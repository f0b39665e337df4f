"""``make_transport``: pick the rclpy adapter when rclpy imports, the Cyclone DDS adapter otherwise."""

from __future__ import annotations

import importlib.util
import logging
import os
from typing import Any, Literal

from leapp_ros.transport.base import Transport
from leapp_ros.transport.errors import TransportError
from leapp_ros.transport.ros_types import DEFAULT_DISTRO, DISTRO_STORES

LOG = logging.getLogger("leapp_ros.transport")
TransportKind = Literal["auto", "dds", "rclpy"]


def rclpy_available() -> bool:
    """True when ``import rclpy`` would find the package (a sourced ROS 2 environment)."""
    return importlib.util.find_spec("rclpy") is not None


def default_ros_distro() -> str:
    """``$ROS_DISTRO`` when it names a supported distro, else the default message set."""
    distro = os.environ.get("ROS_DISTRO", "").strip().lower()
    return distro if distro in DISTRO_STORES else DEFAULT_DISTRO


def make_transport(kind: TransportKind = "auto", node_name: str = "leapp_policy", namespace: str = "/", *,
                   use_sim_time: bool = False, node: Any = None, discovery: str = "loopback",
                   domain_id: int | None = None, ros_distro: str | None = None,
                   ros_args: list[str] | None = None) -> Transport:
    """Create the transport for one node.

    ``kind="auto"`` takes rclpy when it imports and DDS otherwise, and logs the choice. ``node`` (rclpy only)
    reuses an existing ``rclpy.node.Node``/``rclpy.lifecycle.Node``. ``discovery``, ``domain_id`` and
    ``ros_distro`` only apply to DDS (``ros_distro`` defaults to ``$ROS_DISTRO``, else jazzy); ``ros_args``
    (``--ros-args ...``, e.g. remappings appended by ``ros2 run``/``ros2 launch``) only to rclpy.
    """
    if kind not in ("auto", "dds", "rclpy"):
        raise TransportError(f"transport kind must be 'auto', 'dds' or 'rclpy', got {kind!r}")
    if kind == "auto":
        kind = "rclpy" if rclpy_available() else "dds"
        LOG.info("transport 'auto' chose %s (%s)", kind,
                 "rclpy importable" if kind == "rclpy" else "rclpy not importable; Cyclone DDS adapter")
    if kind == "rclpy":
        from leapp_ros.transport.ros2 import RclpyTransport

        return RclpyTransport(node_name, namespace, node=node, use_sim_time=use_sim_time, ros_args=ros_args)
    if node is not None:
        raise TransportError("an existing rclpy node can only be used with the 'rclpy' transport")
    from leapp_ros.transport.dds import DdsTransport

    return DdsTransport(node_name, namespace, domain_id=domain_id, discovery=discovery,  # type: ignore[arg-type]
                        ros_distro=ros_distro or default_ros_distro(), use_sim_time=use_sim_time)
