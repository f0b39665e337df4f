"""Stream trust at the transport: `count_publishers` sees a second publisher on a state topic (real DDS, real rclpy)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

JOINT_STATE = "sensor_msgs/msg/JointState"


def wait_count(transport, topic: str, expected: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    count = transport.count_publishers(topic)
    while count != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        count = transport.count_publishers(topic)
    return count


@contextlib.contextmanager
def dds_transport() -> Iterator[Any]:
    from transport_helpers import loopback_dds_environment
    with loopback_dds_environment():
        from leapp_ros.transport.dds import DdsTransport
        transport = DdsTransport("stream_trust", "/")
        try:
            yield transport
        finally:
            transport.shutdown()


@contextlib.contextmanager
def rclpy_transport() -> Iterator[Any]:
    from leapp_ros.transport.factory import rclpy_available
    if not rclpy_available():
        pytest.skip("rclpy is not importable here (source a ROS 2 setup or install the ros extra)")
    from leapp_ros.transport.ros2 import RclpyTransport
    transport = RclpyTransport("stream_trust")
    try:
        yield transport
    finally:
        transport.shutdown()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("make", [dds_transport, rclpy_transport], ids=["dds", "rclpy"])
def test_count_publishers_sees_a_second_publisher_and_its_departure(make: Callable):
    from leapp_ros.transport import SENSOR_DATA

    with make() as transport:
        transport.create_subscription("/joint_states", JOINT_STATE, SENSOR_DATA, lambda _m: None)
        first = transport.create_publisher("/joint_states", JOINT_STATE, SENSOR_DATA)
        assert wait_count(transport, "joint_states", 1) == 1  # relative and absolute names alike
        second = transport.create_publisher("joint_states", JOINT_STATE, SENSOR_DATA)
        assert wait_count(transport, "/joint_states", 2) == 2
        second.close()
        assert wait_count(transport, "/joint_states", 1) == 1
        first.close()
        assert wait_count(transport, "/joint_states", 0) == 0
