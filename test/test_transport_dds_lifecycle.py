"""DDS transport life cycle: shutdown releases everything idempotently, errors name culprits, sim time, callbacks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from transport_helpers import FakePeer, dds_env, wait_until  # noqa: F401

from leapp_ros.transport.base import DEFAULT, SENSOR_DATA
from leapp_ros.transport.errors import TransportError

pytestmark = pytest.mark.timeout(120)
RECEIVE_THREAD = "leapp-dds-receive"


@pytest.fixture()
def transport(dds_env: dict[str, str]) -> Iterator[Any]:
    from leapp_ros.transport.dds import DdsTransport

    t = DdsTransport("life", "/test")
    yield t
    t.shutdown()


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_shutdown_releases_threads_and_entities_and_is_idempotent(dds_env: dict[str, str],
                                                                   capfd: pytest.CaptureFixture[str]) -> None:
    from cyclonedds.core import Entity

    from leapp_ros.transport.dds import DdsTransport

    t = DdsTransport("life", "/test")
    pub = t.create_publisher("flag", "std_msgs/msg/Bool", DEFAULT)
    sub = t.create_subscription("flag", "std_msgs/msg/Bool", DEFAULT, lambda m: None)
    handles = [t.participant._ref, pub.writer._ref, sub.reader._ref]
    assert RECEIVE_THREAD in _threads()
    t.shutdown()
    t.shutdown()
    assert RECEIVE_THREAD not in _threads()
    assert not any(h in Entity._entities for h in handles), "DDS entities survived shutdown"
    with pytest.raises(TransportError, match="closed"):
        pub.publish(t.new_message("std_msgs/msg/Bool", data=True))
    with pytest.raises(TransportError, match="shut down"):
        t.create_publisher("other", "std_msgs/msg/Bool", DEFAULT)
    sub.close()  # closing after shutdown is a no-op
    again = DdsTransport("life2", "/test")  # the one-per-process slot is free again
    again.shutdown()
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err


def test_one_participant_per_process(transport: Any) -> None:
    from leapp_ros.transport.dds import DdsTransport

    with pytest.raises(TransportError, match="one DDS participant per process"):
        DdsTransport("second", "/test")


def test_services_are_absent_on_dds(transport: Any) -> None:
    assert transport.create_service("~/reset", "std_srvs/srv/Trigger", lambda req, resp: resp) is None


@pytest.mark.parametrize("call,culprit", [
    (lambda t: t.create_publisher("a b", "std_msgs/msg/Bool", DEFAULT), "a b"),
    (lambda t: t.create_publisher("x", "std_msgs/msg/Nope", DEFAULT), "std_msgs/msg/Nope"),
    (lambda t: t.create_subscription("x", "std_msgs/Bool", DEFAULT, print), "pkg/msg/Name"),
    (lambda t: t.new_message("std_msgs/msg/Bool", value=True), "value"),
])
def test_bad_input_names_the_culprit(transport: Any, call: Any, culprit: str) -> None:
    with pytest.raises(TransportError, match=culprit):
        call(transport)


def test_topic_type_conflict_and_wrong_message_type(transport: Any) -> None:
    pub = transport.create_publisher("/conflict", "std_msgs/msg/Bool", DEFAULT)
    with pytest.raises(TransportError, match="/conflict already has type std_msgs/msg/Bool"):
        transport.create_publisher("/conflict", "std_msgs/msg/String", DEFAULT)
    with pytest.raises(TransportError, match="sends std_msgs/msg/Bool"):
        pub.publish(transport.new_message("std_msgs/msg/String", data="x"))


@pytest.mark.parametrize("option,value", [("discovery", "multicast"), ("ros_distro", "foxy"), ("receive", "poll")])
def test_bad_options_are_rejected(dds_env: dict[str, str], option: str, value: str) -> None:
    from leapp_ros.transport.dds import DdsTransport

    with pytest.raises(TransportError, match=value):
        DdsTransport("bad", **{option: value})
    DdsTransport("good").shutdown()  # a failed start leaves nothing behind


def test_failing_callback_is_logged_and_delivery_continues(transport: Any, caplog: pytest.LogCaptureFixture) -> None:
    received: list[bool] = []

    def callback(msg: Any) -> None:
        received.append(msg.data)
        if len(received) == 1:
            raise ValueError("boom in callback")

    sub = transport.create_subscription("/cb", "std_msgs/msg/Bool", DEFAULT, callback)
    pub = transport.create_publisher("/cb", "std_msgs/msg/Bool", DEFAULT)
    assert wait_until(lambda: (pub.publish(transport.new_message("std_msgs/msg/Bool", data=True)), len(received))[1]
                      >= 3, timeout=5.0)
    assert sub.callback_errors == 1
    assert "boom in callback" in caplog.text and "/cb" in caplog.text
    assert RECEIVE_THREAD in _threads()
    sub.close()
    count = len(received)
    for _ in range(5):
        pub.publish(transport.new_message("std_msgs/msg/Bool", data=True))
    time.sleep(0.2)
    assert len(received) == count, "a closed subscription still received messages"


def test_publish_accepts_lists_for_numeric_sequences(transport: Any) -> None:
    got: list[Any] = []
    transport.create_subscription("/lists", "sensor_msgs/msg/JointState", DEFAULT, got.append)
    pub = transport.create_publisher("/lists", "sensor_msgs/msg/JointState", DEFAULT)
    msg = transport.new_message("sensor_msgs/msg/JointState", name=["a"])
    msg.position = [1.5]  # a plain list set after creation
    assert wait_until(lambda: (pub.publish(msg), bool(got))[1], timeout=5.0)
    assert got[-1].position.tolist() == [1.5]


def test_use_sim_time_follows_clock_from_another_process(dds_env: dict[str, str]) -> None:
    from leapp_ros.transport.dds import DdsTransport

    t = DdsTransport("sim", "/test", use_sim_time=True)
    clock = FakePeer({"node": "sim_clock", "publish": [{"topic": "/clock", "type": "rosgraph_msgs/msg/Clock",
                                                        "fields": {"clock": {"sec": 42, "nanosec": 500}},
                                                        "rate_hz": 100.0}]}, dds_env)
    try:
        assert t.now_ns() == 0  # no /clock yet: ROS time is zero
        clock.wait_ready()
        assert wait_until(lambda: t.now_ns() == 42_000_000_500, timeout=10.0), f"now_ns() = {t.now_ns()}"
    finally:
        assert clock.stop() == 0, clock.stderr_text()
        t.shutdown()


def test_wall_time_without_sim_time(transport: Any) -> None:
    before = time.time_ns()
    now = transport.now_ns()
    assert before <= now <= time.time_ns()


def test_listener_receive_mode_delivers(dds_env: dict[str, str]) -> None:
    from leapp_ros.transport.dds import DdsTransport

    t = DdsTransport("listener", "/test", receive="listener")
    try:
        got: list[Any] = []
        t.create_subscription("/l", "std_msgs/msg/Bool", SENSOR_DATA, got.append)
        pub = t.create_publisher("/l", "std_msgs/msg/Bool", SENSOR_DATA)
        assert wait_until(lambda: (pub.publish(t.new_message("std_msgs/msg/Bool", data=True)), bool(got))[1],
                          timeout=5.0)
        assert RECEIVE_THREAD not in _threads()
    finally:
        t.shutdown()
