"""Middleware layer of the deploy node: one Transport interface with a Cyclone DDS adapter and an rclpy adapter."""

from leapp_ros.transport.base import (
                                      DEFAULT,
                                      LATCHED,
                                      QOS_PROFILES,
                                      SENSOR_DATA,
                                      Publisher,
                                      QosProfile,
                                      Subscription,
                                      Transport,
                                      qos_profile,
)
from leapp_ros.transport.errors import TransportError
from leapp_ros.transport.factory import make_transport
from leapp_ros.transport.loopback import loopback_config_uri, loopback_environment

__all__ = [
    "DEFAULT", "LATCHED", "QOS_PROFILES", "SENSOR_DATA", "Publisher", "QosProfile", "Subscription", "Transport",
    "TransportError", "loopback_config_uri", "loopback_environment", "make_transport", "qos_profile",
]
