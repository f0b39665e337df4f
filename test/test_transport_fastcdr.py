"""The fixed-layout CDR fast path writes exactly rosbags' bytes for every message shape the node publishes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leapp_ros.message_types import FLOAT64_MULTI_ARRAY, JOINT_STATE
from leapp_ros.transport.dds_fastcdr import FixedCdr
from leapp_ros.transport.dds_raw import pad4
from leapp_ros.transport.ros_types import DEFAULT_DISTRO, get_ros_typestore, new_message, normalize_message

TYPESTORE = get_ros_typestore(DEFAULT_DISTRO)


def rosbags_bytes(msg, type_name: str) -> bytes:
    normalize_message(TYPESTORE, msg)
    return pad4(TYPESTORE.serialize_cdr(msg, type_name))


def multi_array(values, dims=(), data_offset=0):
    msg = new_message(TYPESTORE, FLOAT64_MULTI_ARRAY, {})
    for label, size, stride in dims:
        dim = new_message(TYPESTORE, "std_msgs/msg/MultiArrayDimension", {"label": label, "size": size,
                                                                          "stride": stride})
        msg.layout.dim.append(dim)
    msg.layout.data_offset = data_offset
    msg.data = values
    return msg


def joint_state(names, position, velocity=(), effort=(), frame_id="", stamp=(0, 0)):
    msg = new_message(TYPESTORE, JOINT_STATE, {"name": list(names)})
    msg.header.frame_id = frame_id
    msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
    msg.position, msg.velocity, msg.effort = position, velocity, effort
    return msg


CASES = [
    ("12 joints, float64", FLOAT64_MULTI_ARRAY, lambda: multi_array(np.linspace(-1, 1, 12))),
    ("12 joints, float32 values", FLOAT64_MULTI_ARRAY, lambda: multi_array(np.linspace(-1, 1, 12, dtype=np.float32))),
    ("one value", FLOAT64_MULTI_ARRAY, lambda: multi_array(np.array([3.5]))),
    ("empty", FLOAT64_MULTI_ARRAY, lambda: multi_array(np.zeros(0))),
    ("non-finite values", FLOAT64_MULTI_ARRAY, lambda: multi_array(np.array([np.nan, np.inf, -np.inf, 0.0]))),
    ("layout dims", FLOAT64_MULTI_ARRAY, lambda: multi_array(np.arange(6.0), (("rows", 2, 6), ("cols", 3, 3)), 1)),
    ("a list", FLOAT64_MULTI_ARRAY, lambda: multi_array([1.0, 2.0, 3.0])),
    ("position only", JOINT_STATE, lambda: joint_state(["a", "bc", "def"], np.arange(3.0), stamp=(12, 345))),
    ("all three", JOINT_STATE, lambda: joint_state(["hip", "knee"], np.ones(2), np.full(2, -2.0), np.zeros(2), "base",
                                                   (1_700_000_000, 999_999_999))),
    ("no joints", JOINT_STATE, lambda: joint_state([], np.zeros(0))),
    ("unicode names, float32", JOINT_STATE, lambda: joint_state(["gelenk_ä", "x"], np.ones(2, np.float32))),
]


@pytest.mark.parametrize("label,type_name,make", CASES, ids=[c[0] for c in CASES])
def test_fast_path_bytes_equal_rosbags(label: str, type_name: str, make) -> None:
    fixed = FixedCdr(type_name, TYPESTORE)
    msg = make()
    fast = fixed.encode(msg)
    assert fast is not None, f"{label}: the fast path refused a shape it supports"
    assert bytes(fast) == rosbags_bytes(make(), type_name)


def test_reused_layout_follows_new_values_and_stamps() -> None:
    """The second and later messages of one shape reuse the layout: only numbers and the stamp change."""
    fixed = FixedCdr(JOINT_STATE, TYPESTORE)
    names = [f"joint_{i}" for i in range(12)]
    for step in range(3):
        values = np.random.default_rng(step).normal(size=12)
        stamp = (step, 1000 * step)
        fast = bytes(fixed.encode(joint_state(names, values, -values, 2 * values, "odom", stamp)))
        assert fast == rosbags_bytes(joint_state(names, values, -values, 2 * values, "odom", stamp), JOINT_STATE)


def test_shape_change_builds_a_new_layout() -> None:
    fixed = FixedCdr(FLOAT64_MULTI_ARRAY, TYPESTORE)
    for n in (12, 3, 12, 0):
        assert bytes(fixed.encode(multi_array(np.arange(float(n))))) == rosbags_bytes(multi_array(np.arange(float(n))),
                                                                                      FLOAT64_MULTI_ARRAY)


@pytest.mark.parametrize("label,make", [
    ("a None value", lambda: multi_array([1.0, None])),
    ("2-D data", lambda: multi_array(np.zeros((2, 2)))),
    ("complex data", lambda: multi_array(np.zeros(2, complex))),
    ("stamp beyond int32", lambda: joint_state(["a"], np.zeros(1), stamp=(2**31, 0))),
])
def test_what_does_not_fit_goes_to_rosbags(label: str, make) -> None:
    """The fast path declines (None) rather than guess: the publisher then serialises with rosbags."""
    type_name = JOINT_STATE if "stamp" in label else FLOAT64_MULTI_ARRAY
    assert FixedCdr(type_name, TYPESTORE).encode(make()) is None, label


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.text(min_size=0, max_size=9), max_size=6),
       frame_id=st.text(max_size=7),
       counts=st.tuples(st.integers(0, 7), st.integers(0, 7), st.integers(0, 7)),
       stamp=st.tuples(st.integers(-2**31, 2**31 - 1), st.integers(0, 2**32 - 1)),
       seed=st.integers(0, 2**16))
def test_joint_state_any_shape(names, frame_id, counts, stamp, seed) -> None:
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=n) for n in counts]
    make = lambda: joint_state(names, *arrays, frame_id=frame_id, stamp=stamp)  # noqa: E731
    fast = FixedCdr(JOINT_STATE, TYPESTORE).encode(make())
    assert fast is not None and bytes(fast) == rosbags_bytes(make(), JOINT_STATE)


@settings(max_examples=60, deadline=None)
@given(dims=st.lists(st.tuples(st.text(max_size=6), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
                     max_size=3),
       data_offset=st.integers(0, 2**32 - 1), n=st.integers(0, 20), seed=st.integers(0, 2**16))
def test_multi_array_any_shape(dims, data_offset, n, seed) -> None:
    values = np.random.default_rng(seed).normal(size=n)
    make = lambda: multi_array(values, dims, data_offset)  # noqa: E731
    fast = FixedCdr(FLOAT64_MULTI_ARRAY, TYPESTORE).encode(make())
    assert fast is not None and bytes(fast) == rosbags_bytes(make(), FLOAT64_MULTI_ARRAY)
