"""Real DDS on loopback between two OS processes: every message kind both ways, QoS, latching, graph info."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from transport_helpers import FakePeer, assert_fields_equal, dds_env, message_from_dict, message_to_dict, wait_until  # noqa: F401

from leapp_ros.transport.base import DEFAULT, LATCHED, SENSOR_DATA

pytestmark = pytest.mark.timeout(120)

JOINTS = [f"joint_{i}" for i in range(12)]
# (case id, topic suffix, ROS type, QoS name, fields)
CASES: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("joint_state", "joint_states", "sensor_msgs/msg/JointState", "default", {
        "header": {"stamp": {"sec": 12, "nanosec": 345}, "frame_id": "base"}, "name": JOINTS,
        "position": [0.1 * i for i in range(12)], "velocity": [-0.5 * i for i in range(12)],
        "effort": [1.5] * 12}),
    ("imu", "imu", "sensor_msgs/msg/Imu", "sensor_data", {
        "header": {"stamp": {"sec": 3, "nanosec": 7}, "frame_id": "imu_link"},
        "orientation": {"x": 0.1, "y": 0.2, "z": 0.3, "w": 0.9273618495495703},
        "orientation_covariance": [0.01 * i for i in range(9)], "angular_velocity": {"x": 1.0, "y": -2.0, "z": 3.0},
        "linear_acceleration": {"x": 0.0, "y": 0.0, "z": 9.81}}),
    ("twist", "cmd_vel", "geometry_msgs/msg/Twist", "default", {
        "linear": {"x": 0.5, "y": -0.25, "z": 0.0}, "angular": {"x": 0.0, "y": 0.0, "z": 1.25}}),
    ("odometry", "odom", "nav_msgs/msg/Odometry", "default", {
        "header": {"stamp": {"sec": 99, "nanosec": 1}, "frame_id": "odom"}, "child_frame_id": "base_link",
        "pose": {"pose": {"position": {"x": 1.0, "y": 2.0, "z": 0.3}, "orientation": {"w": 1.0}},
                 "covariance": [float(i) for i in range(36)]},
        "twist": {"twist": {"linear": {"x": 0.7}, "angular": {"z": -0.1}}, "covariance": [0.5] * 36}}),
    ("float64_multi_array", "action", "std_msgs/msg/Float64MultiArray", "default", {
        "layout": {"dim": [{"label": "joints", "size": 12, "stride": 12}], "data_offset": 0},
        "data": [0.25 * i - 1.0 for i in range(12)]}),
    ("joint_trajectory", "joint_trajectory", "trajectory_msgs/msg/JointTrajectory", "default", {
        "header": {"stamp": {"sec": 5, "nanosec": 0}}, "joint_names": JOINTS,
        "points": [{"positions": [0.01 * i for i in range(12)], "velocities": [0.0] * 12,
                    "time_from_start": {"sec": 0, "nanosec": 20_000_000}}]}),
    ("bool", "enable", "std_msgs/msg/Bool", "default", {"data": True}),
]
QOS = {"default": DEFAULT, "sensor_data": SENSOR_DATA, "latched": LATCHED}
LATCHED_TEXT = "<robot name='fake'/>"


@pytest.fixture(scope="module")
def local(dds_env: dict[str, str]) -> Iterator[Any]:
    """This process's DDS node (one participant per process)."""
    from leapp_ros.transport.dds import DdsTransport

    transport = DdsTransport("test_node", "/test")
    yield transport
    transport.shutdown()


@pytest.fixture(scope="module")
def robot(dds_env: dict[str, str], local: Any) -> Iterator[FakePeer]:
    """A fake robot process: publishes every case (50 Hz), a latched String, a best-effort flag; echoes /to_peer."""
    publish = [{"topic": f"/robot/{suffix}", "type": typ, "qos": qos, "fields": fields, "rate_hz": 50.0}
               for _, suffix, typ, qos, fields in CASES]
    publish.append({"topic": "/robot/description", "type": "std_msgs/msg/String", "qos": "latched",
                    "fields": {"data": LATCHED_TEXT}, "count": 1})
    publish.append({"topic": "/robot/be_flag", "type": "std_msgs/msg/Bool", "qos": "sensor_data",
                    "fields": {"data": True}, "rate_hz": 50.0})
    subscribe = [{"topic": f"/to_peer/{suffix}", "type": typ, "qos": qos} for _, suffix, typ, qos, _ in CASES]
    peer = FakePeer({"node": "fake_robot", "namespace": "/robot", "publish": publish, "subscribe": subscribe,
                     "duration_s": 100.0}, dds_env)
    peer.wait_ready()
    yield peer
    rc = peer.stop()
    stderr = peer.stderr_text()
    assert rc == 0 and "Traceback" not in stderr, stderr


def _collect(local: Any, topic: str, typ: str, qos: str) -> tuple[Any, list[Any]]:
    received: list[Any] = []
    sub = local.create_subscription(topic, typ, QOS[qos], received.append)
    return sub, received


@pytest.mark.parametrize("case_id,suffix,typ,qos,fields", CASES, ids=[c[0] for c in CASES])
def test_peer_to_local(local: Any, robot: FakePeer, case_id: str, suffix: str, typ: str, qos: str,
                       fields: dict[str, Any]) -> None:
    sub, received = _collect(local, f"/robot/{suffix}", typ, qos)
    try:
        assert wait_until(lambda: len(received) >= 3, timeout=10.0), f"no {typ} received on /robot/{suffix}"
        msg = received[-1]
        assert msg.__msgtype__ == typ
        assert_fields_equal(fields, message_to_dict(msg))
    finally:
        sub.close()


@pytest.mark.parametrize("case_id,suffix,typ,qos,fields", CASES, ids=[c[0] for c in CASES])
def test_local_to_peer(local: Any, robot: FakePeer, case_id: str, suffix: str, typ: str, qos: str,
                       fields: dict[str, Any]) -> None:
    pub = local.create_publisher(f"/to_peer/{suffix}", typ, QOS[qos])
    msg = message_from_dict(local.typestore, typ, fields)
    stop_at = time.monotonic() + 10.0
    try:
        while time.monotonic() < stop_at:
            pub.publish(msg)
            try:
                event = robot.wait_for(lambda e: e["event"] == "msg" and e["topic"] == f"/to_peer/{suffix}", 0.05)
                break
            except AssertionError:
                continue
        else:
            pytest.fail(f"peer never received {typ} on /to_peer/{suffix}")
        assert_fields_equal(fields, event["msg"])
    finally:
        pub.close()


def test_latched_string_reaches_late_joiner_only_if_transient_local(local: Any, robot: FakePeer) -> None:
    robot.wait_for(lambda e: e["event"] == "published_all" and e["topic"] == "/robot/description")
    time.sleep(0.3)  # the sample is history now: only a transient-local reader can still get it
    volatile_sub, volatile = _collect(local, "/robot/description", "std_msgs/msg/String", "default")
    time.sleep(0.5)
    # Checked before the transient-local reader exists: Cyclone may hand the catch-up sample it fetches for
    # that reader to other readers of the same topic in this participant too.
    assert volatile == [], "a volatile late joiner must not receive the latched sample"
    latched_sub, latched = _collect(local, "/robot/description", "std_msgs/msg/String", "latched")
    try:
        assert wait_until(lambda: len(latched) == 1, timeout=10.0), "late transient-local reader got no sample"
        assert latched[0].data == LATCHED_TEXT
        time.sleep(0.2)
        assert len(latched) == 1
    finally:
        latched_sub.close()
        volatile_sub.close()


def test_best_effort_publisher_does_not_reach_reliable_subscriber(local: Any, robot: FakePeer) -> None:
    reliable_sub, reliable = _collect(local, "/robot/be_flag", "std_msgs/msg/Bool", "default")
    sensor_sub, sensor = _collect(local, "/robot/be_flag", "std_msgs/msg/Bool", "sensor_data")
    try:
        assert wait_until(lambda: len(sensor) >= 10, timeout=10.0), "best-effort control subscriber got nothing"
        time.sleep(0.3)
        assert reliable == [], "reliable subscriber matched a best-effort publisher"
    finally:
        reliable_sub.close()
        sensor_sub.close()


def test_invalid_samples_on_writer_exit_are_filtered(local: Any, dds_env: dict[str, str]) -> None:
    leaver = FakePeer({"node": "leaver", "publish": [{"topic": "/leaver/flag", "type": "std_msgs/msg/Bool",
                                                      "fields": {"data": True}, "rate_hz": 100.0}]}, dds_env)
    sub, received = _collect(local, "/leaver/flag", "std_msgs/msg/Bool", "default")
    try:
        leaver.wait_ready()
        assert wait_until(lambda: len(received) >= 5, timeout=10.0), "no data from the leaving writer"
        assert leaver.stop() == 0, leaver.stderr_text()
        assert wait_until(lambda: sub.invalid_samples >= 1, timeout=10.0), "writer exit produced no invalid sample"
        assert sub.callback_errors == 0
        assert all(m.__msgtype__ == "std_msgs/msg/Bool" and m.data is True for m in received)
    finally:
        leaver.stop()
        sub.close()


@pytest.mark.parametrize("distro,gid_bytes", [("jazzy", 16), ("humble", 24)])
def test_ros_discovery_info_lists_node_and_gids(local: Any, dds_env: dict[str, str], distro: str,
                                                gid_bytes: int) -> None:
    from cyclonedds.domain import DomainParticipant
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic

    from leapp_ros.transport.dds_qos import discovery_info_qos
    from leapp_ros.transport.dds_raw import any_state_mask, take_cdr
    from leapp_ros.transport.dds_types import IdlTypeFactory
    from leapp_ros.transport.discovery import DISCOVERY_TOPIC, DISCOVERY_TYPE
    from leapp_ros.transport.ros_types import get_ros_typestore

    peer = FakePeer({"node": "graph_peer", "namespace": "/graph", "ros_distro": distro,
                     "publish": [{"topic": "~/out", "type": "std_msgs/msg/Bool", "rate_hz": 10.0}],
                     "subscribe": [{"topic": "in", "type": "std_msgs/msg/Bool"}]}, dds_env)
    typestore = get_ros_typestore(distro)
    participant = DomainParticipant(local.domain_id)  # a second, plain participant reads the graph back
    try:
        ready = peer.wait_ready()
        reader = DataReader(participant, Topic(participant, DISCOVERY_TOPIC, IdlTypeFactory(typestore).get(
            DISCOVERY_TYPE)), qos=discovery_info_qos(reader=True))
        infos: list[Any] = []

        def graph_has_peer() -> bool:
            infos.extend(typestore.deserialize_cdr(cdr, DISCOVERY_TYPE)
                         for cdr in take_cdr(reader, any_state_mask())[0])
            return any(n.node_name == "graph_peer" and n.writer_gid_seq and n.reader_gid_seq
                       for info in infos for n in info.node_entities_info_seq)

        assert wait_until(graph_has_peer, timeout=10.0), "peer's node never appeared on ros_discovery_info"
        info = next(i for i in reversed(infos) if any(n.node_name == "graph_peer" for n in i.node_entities_info_seq))
        node = info.node_entities_info_seq[0]
        assert node.node_namespace == "/graph"
        assert len(info.gid.data) == gid_bytes
        assert bytes(info.gid.data).hex() == ready["participant_guid"] + "00" * (gid_bytes - 16)
        assert [bytes(g.data[:16]).hex() for g in node.writer_gid_seq] == [ready["writers"]["/graph/graph_peer/out"]]
        assert [bytes(g.data[:16]).hex() for g in node.reader_gid_seq] == [ready["readers"]["/graph/in"]]
        assert all(not any(g.data[16:]) for g in [*node.writer_gid_seq, *node.reader_gid_seq])
    finally:
        assert peer.stop() == 0, peer.stderr_text()
        participant.__del__()
