"""Message types without traffic: names, QoS presets, defaults, REP-2011 hashes, CDR byte identity rosbags <-> IDL."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

pytest.importorskip("rosbags", reason="rosbags not installed (pip install rosbags==0.11.9)")

from leapp_ros.transport.base import DEFAULT, LATCHED, SENSOR_DATA, QosProfile  # noqa: E402
from leapp_ros.transport.errors import TransportError  # noqa: E402
from leapp_ros.transport.names import dds_topic_name, dds_type_name, resolve_topic  # noqa: E402
from leapp_ros.transport.ros_types import NUMPY_DTYPES, get_ros_typestore, new_message, ros_type_hash  # noqa: E402


@pytest.mark.parametrize("name,node,ns,expected", [
    ("/joint_states", "policy", "/rl", "/joint_states"),
    ("joint_states", "policy", "/rl", "/rl/joint_states"),
    ("joint_states", "policy", "/", "/joint_states"),
    ("~/action", "policy", "/rl", "/rl/policy/action"),
    ("~/action", "policy", "", "/policy/action"),
    ("~", "policy", "/a/b", "/a/b/policy"),
    ("{node}/state", "policy", "/rl", "/rl/policy/state"),
    ("cmd/vel", "policy", "rl/", "/rl/cmd/vel"),
])
def test_resolve_topic(name: str, node: str, ns: str, expected: str) -> None:
    assert resolve_topic(name, node, ns) == expected


@pytest.mark.parametrize("name,node,ns,culprit", [
    ("", "policy", "/", "topic"), ("a//b", "policy", "/", "topic"), ("a/", "policy", "/", "topic"),
    ("1abc", "policy", "/", "topic"), ("a b", "policy", "/", "topic"), ("x", "9node", "/", "node name"),
    ("x", "policy", "/r-l", "namespace"),
])
def test_resolve_topic_rejects_bad_names(name: str, node: str, ns: str, culprit: str) -> None:
    with pytest.raises(TransportError, match=culprit):
        resolve_topic(name, node, ns)


@pytest.mark.parametrize("ros,dds", [
    ("sensor_msgs/msg/JointState", "sensor_msgs::msg::dds_::JointState_"),
    ("rmw_dds_common/msg/ParticipantEntitiesInfo", "rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_"),
])
def test_dds_type_name(ros: str, dds: str) -> None:
    assert dds_type_name(ros) == dds


def test_dds_topic_name() -> None:
    assert dds_topic_name("/rl/policy/action") == "rt/rl/policy/action"


@pytest.mark.parametrize("profile,expected", [
    (SENSOR_DATA, ("best_effort", "volatile", 5)),
    (DEFAULT, ("reliable", "volatile", 10)),
    (LATCHED, ("reliable", "transient_local", 1)),
])
def test_qos_presets_match_rmw(profile: QosProfile, expected: tuple[str, str, int]) -> None:
    assert (profile.reliability, profile.durability, profile.depth) == expected


@pytest.mark.parametrize("kwargs,culprit", [
    ({"reliability": "lossy"}, "reliability"), ({"durability": "persistent"}, "durability"),
    ({"depth": 0}, "depth"), ({"depth": 2.5}, "depth"),
])
def test_qos_rejects_bad_values(kwargs: dict[str, Any], culprit: str) -> None:
    with pytest.raises(ValueError, match=culprit):
        QosProfile(**kwargs)


def test_new_message_fills_defaults_and_converts_lists() -> None:
    ts = get_ros_typestore("jazzy")
    msg = new_message(ts, "sensor_msgs/msg/JointState", {"name": ["a", "b"], "position": [1, 2]})
    assert msg.header.frame_id == "" and msg.header.stamp.sec == 0
    assert msg.position.dtype == np.float64 and msg.position.tolist() == [1.0, 2.0]
    assert msg.velocity.shape == (0,)
    imu = new_message(ts, "sensor_msgs/msg/Imu", {})
    assert imu.orientation_covariance.shape == (9,) and imu.orientation.w == 1.0  # ROS 2 Quaternion default


@pytest.mark.parametrize("type_name,fields,culprit", [
    ("sensor_msgs/msg/JointState", {"positions": [1.0]}, "positions"),
    ("sensor_msgs/msg/Imu", {"orientation_covariance": [0.0] * 4}, "exactly 9"),
    ("sensor_msgs/JointState", {}, "pkg/msg/Name"),
    ("nope_msgs/msg/Nothing", {}, "nope_msgs/msg/Nothing"),
])
def test_new_message_errors_name_the_culprit(type_name: str, fields: dict[str, Any], culprit: str) -> None:
    with pytest.raises(TransportError, match=culprit):
        new_message(get_ros_typestore("jazzy"), type_name, fields)


# Hashes announced by real ROS 2 Jazzy: JointState seen live (wire doc §3); ParticipantEntitiesInfo from the
# rosidl-generated participant_entities_info__description.c (a char-containing type rosbags alone hashes wrongly).
@pytest.mark.parametrize("type_name,expected", [
    ("sensor_msgs/msg/JointState", "RIHS01_a13ee3a330e346c9d87b5aa18d24e11690752bd33a0350f11c5882bc9179260e"),
    ("rmw_dds_common/msg/ParticipantEntitiesInfo",
     "RIHS01_91a0593bacdcc50ea9bdcf849a938b128412cc1ea821245c663bcd26f83c295e"),
])
def test_type_hash_matches_ros(type_name: str, expected: str) -> None:
    assert ros_type_hash("jazzy", type_name) == expected


def _random_value(ts: Any, desc: Any, rng: random.Random) -> Any:
    kind, rest = int(desc[0]), desc[1]
    if kind == 1:
        prim, bound = rest
        if prim == "string":
            return "".join(rng.choice("abcxyz_/") for _ in range(rng.randint(0, bound or 12)))
        if prim == "bool":
            return rng.random() < 0.5
        if prim.startswith("float"):
            return float(np.asarray(rng.uniform(-1e3, 1e3), dtype=NUMPY_DTYPES[prim]))
        info = np.iinfo(NUMPY_DTYPES[prim])
        return rng.randint(int(info.min), int(info.max))
    if kind == 2:
        return _random_message(ts, rest, rng)
    elem, size = rest
    count = size if kind == 3 else rng.randint(0, size or 5)
    if int(elem[0]) == 1 and elem[1][0] in NUMPY_DTYPES:
        return np.asarray([_random_value(ts, elem, rng) for _ in range(count)], dtype=NUMPY_DTYPES[elem[1][0]])
    return [_random_value(ts, elem, rng) for _ in range(count)]


def _random_message(ts: Any, type_name: str, rng: random.Random) -> Any:
    return ts.types[type_name](**{n: _random_value(ts, d, rng) for n, d in ts.fielddefs[type_name][1]})


BYTE_IDENTITY_TYPES = ["sensor_msgs/msg/JointState", "sensor_msgs/msg/Imu", "nav_msgs/msg/Odometry",
                       "std_msgs/msg/Float64MultiArray", "trajectory_msgs/msg/JointTrajectory", "std_msgs/msg/Bool",
                       "std_msgs/msg/String", "rosgraph_msgs/msg/Clock", "sensor_msgs/msg/NavSatFix",
                       "rmw_dds_common/msg/ParticipantEntitiesInfo", "std_msgs/msg/Empty"]


@pytest.mark.parametrize("distro", ["humble", "jazzy", "kilted"])
@pytest.mark.parametrize("type_name", BYTE_IDENTITY_TYPES)
def test_cdr_bytes_identical_between_rosbags_and_generated_idl(distro: str, type_name: str) -> None:
    pytest.importorskip("cyclonedds", reason="cyclonedds not installed (pip install cyclonedds==11.0.1)")
    from leapp_ros.transport.dds_types import IdlTypeFactory

    ts = get_ros_typestore(distro)
    idl_class = IdlTypeFactory(ts).get(type_name)
    assert idl_class.__idl_typename__ == dds_type_name(type_name)
    rng = random.Random(f"{distro}:{type_name}")
    for _ in range(10):
        cdr = bytes(ts.serialize_cdr(_random_message(ts, type_name, rng), type_name))
        assert cdr[:4] == b"\x00\x01\x00\x00"  # plain CDR (XCDR1), little-endian
        idl_msg = idl_class.deserialize(cdr)
        assert idl_msg.serialize() == cdr  # IDL re-encodes rosbags' bytes exactly
        assert bytes(ts.serialize_cdr(ts.deserialize_cdr(idl_msg.serialize(), type_name), type_name)) == cdr
