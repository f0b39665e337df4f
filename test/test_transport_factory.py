"""make_transport choice and the rclpy adapter (exercised for real only where ROS 2 is installed)."""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any

import pytest
from transport_helpers import dds_env, wait_until  # noqa: F401

from leapp_ros.transport import DEFAULT, LATCHED, SENSOR_DATA, Transport, TransportError, make_transport

HAVE_RCLPY = importlib.util.find_spec("rclpy") is not None


def test_auto_picks_dds_without_rclpy(dds_env: dict[str, str], caplog: pytest.LogCaptureFixture,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rclpy", None)  # as if the ROS 2 wheels were not installed
    caplog.set_level("INFO", logger="leapp_ros.transport")
    transport = make_transport("auto", node_name="auto_node", namespace="/t")
    try:
        assert transport.name == "dds"
        assert isinstance(transport, Transport)
        assert "chose dds" in caplog.text
    finally:
        transport.shutdown()


@pytest.mark.parametrize("kwargs,culprit", [
    ({"kind": "zenoh"}, "zenoh"),
    ({"kind": "dds", "node": object()}, "rclpy"),
])
def test_make_transport_rejects_bad_requests(kwargs: dict[str, Any], culprit: str) -> None:
    with pytest.raises(TransportError, match=culprit):
        make_transport(**kwargs)


def test_rclpy_transport_without_ros_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from leapp_ros.transport.ros2 import RclpyTransport

    monkeypatch.setitem(sys.modules, "rclpy", None)
    with pytest.raises(TransportError, match="source /opt/ros"):
        RclpyTransport("x")


@pytest.mark.skipif(not HAVE_RCLPY, reason="rclpy not importable (no ROS 2 here); runs on a ROS 2 install")
@pytest.mark.parametrize("qos", [DEFAULT, SENSOR_DATA, LATCHED])
def test_rclpy_adapter_round_trip(qos: Any) -> None:
    from leapp_ros.transport.ros2 import RclpyTransport, to_rclpy_qos

    profile = to_rclpy_qos(qos)
    assert profile.depth == qos.depth
    transport = RclpyTransport("leapp_rclpy_test", "/t")
    try:
        assert transport.resolve_topic("~/x") == "/t/leapp_rclpy_test/x"
        got: list[Any] = []
        transport.create_subscription("~/js", "sensor_msgs/msg/JointState", qos, got.append)
        pub = transport.create_publisher("~/js", "sensor_msgs/msg/JointState", qos)
        msg = transport.new_message("sensor_msgs/msg/JointState", name=["a"], position=[1.0])
        assert wait_until(lambda: (pub.publish(msg), bool(got))[1], timeout=10.0)
        assert list(got[-1].position) == [1.0]
        assert abs(transport.now_ns() - time.time_ns()) < 1_000_000_000
        assert transport.create_service("~/trigger", "std_srvs/srv/Trigger", lambda req, resp: resp) is not None
    finally:
        transport.shutdown()
        transport.shutdown()


@pytest.mark.skipif(not HAVE_RCLPY, reason="rclpy not importable (pip install -e .[ros])")
@pytest.mark.parametrize("distro, profile, hint", [("kilted", None, True), ("rolling", None, True),
                                                   ("jazzy", None, False), ("kilted", "/x.xml", False)])
def test_fastdds3_interop_hint_names_the_exact_fix(monkeypatch: pytest.MonkeyPatch, distro: str,
                                                   profile: str | None, hint: bool) -> None:
    from leapp_ros.transport.ros2 import INTEROP_PROFILE, fastdds_type_propagation_hint

    monkeypatch.setenv("ROS_DISTRO", distro)
    monkeypatch.delenv("FASTRTPS_DEFAULT_PROFILES_FILE", raising=False)
    if profile:
        monkeypatch.setenv("FASTDDS_DEFAULT_PROFILES_FILE", profile)
    else:
        monkeypatch.delenv("FASTDDS_DEFAULT_PROFILES_FILE", raising=False)
    text = fastdds_type_propagation_hint()
    assert (text is not None) == hint
    if hint:
        assert f"FASTDDS_DEFAULT_PROFILES_FILE={INTEROP_PROFILE}" in text and "type_propagation=disabled" in text
        assert "type_propagation" in INTEROP_PROFILE.read_text()
