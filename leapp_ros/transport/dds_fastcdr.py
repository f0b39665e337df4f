"""Fixed-layout CDR for the node's per-tick messages: the bytes are laid out once per message shape, then each
publish copies only the numbers (and the stamp) into a reused buffer.

Covered: ``std_msgs/msg/Float64MultiArray`` and ``sensor_msgs/msg/JointState``. A layout is built from the
message's shape (layout dims, frame id, joint names, array lengths) and checked once against rosbags'
serialisation of the same message before it is used; any other shape, type or value that does not fit (a stamp
out of range, a list holding None) falls back to rosbags, so the wire bytes are always rosbags' bytes.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from leapp_ros.message_types import FLOAT64_MULTI_ARRAY, JOINT_STATE

_STAMP = struct.Struct("<iI")
_BODY = 4  # the encapsulation header; CDR alignment counts from the body


def _align(offset: int, n: int) -> int:
    return offset + (-(offset - _BODY) % n)


def _sequence(offset: int, count: int) -> tuple[int, int, int]:
    """Where a float64 sequence starting at `offset` puts its count and its values, and where it ends."""
    count_at = _align(offset, 4)
    values_at = _align(count_at + 4, 8) if count else count_at + 4
    return count_at, values_at, values_at + 8 * count


def _with_sequences(head: bytes, counts: tuple[int, ...]) -> tuple[bytearray, list[np.ndarray]]:
    """`head` followed by float64 sequences of `counts` in one buffer of its final size (padded to 4), and views
    of their values (a bytearray with views into it can never be resized, so it is sized first)."""
    offset = len(head)
    places = []
    for count in counts:
        count_at, values_at, offset = _sequence(offset, count)
        places.append((count_at, values_at, count))
    buf = bytearray(offset + (-offset % 4))
    buf[:len(head)] = head
    views = []
    for count_at, values_at, count in places:
        struct.pack_into("<I", buf, count_at, count)
        views.append(np.frombuffer(buf, np.float64, count, values_at))
    return buf, views


def _string(parts: list[bytes], offset: int, text: str) -> int:
    raw = text.encode() + b"\0"
    pad = _align(offset, 4) - offset
    parts.append(b"\0" * pad + struct.pack("<I", len(raw)) + raw)
    return offset + pad + 4 + len(raw)


class _Layout:
    """One shape's bytes: a reused buffer and float64 views of its numeric fields."""

    def __init__(self, key: Any, buf: bytearray, views: list[np.ndarray]) -> None:
        self.key = key
        self.buf = buf
        self.views = views


class FixedCdr:
    """Serialises one message type with a layout per shape, verified against rosbags when the shape is new."""

    def __init__(self, type_name: str, typestore: Any) -> None:
        self.type_name = type_name
        self._typestore = typestore
        self._layout: _Layout | None = None
        self._refused: Any = None  # a shape whose layout did not match rosbags: never tried again

    @staticmethod
    def supports(type_name: str) -> bool:
        return type_name in (FLOAT64_MULTI_ARRAY, JOINT_STATE)

    def encode(self, msg: Any) -> bytearray | None:
        """The CDR bytes of `msg` (encapsulation header included, 4-byte padded) in the reused buffer, or None
        where rosbags must serialise it. The buffer is overwritten by the next call."""
        try:
            if self.type_name == FLOAT64_MULTI_ARRAY:
                key = self._multi_array_key(msg)
                layout = self._layout if self._layout is not None and self._layout.key == key else self._build(msg, key)
                if layout is None:
                    return None
                np.copyto(layout.views[0], msg.data)
                return layout.buf
            header = msg.header
            key = (header.frame_id, tuple(msg.name), len(msg.position), len(msg.velocity), len(msg.effort))
            layout = self._layout if self._layout is not None and self._layout.key == key else self._build(msg, key)
            if layout is None:
                return None
            stamp = header.stamp
            _STAMP.pack_into(layout.buf, _BODY, stamp.sec, stamp.nanosec)
            position, velocity, effort = layout.views
            np.copyto(position, msg.position)
            np.copyto(velocity, msg.velocity)
            np.copyto(effort, msg.effort)
            return layout.buf
        except (TypeError, ValueError, AttributeError, struct.error, OverflowError):
            return None  # rosbags serialises it (or says clearly why it cannot)

    @staticmethod
    def _multi_array_key(msg: Any) -> Any:
        layout = msg.layout
        dims = tuple((d.label, d.size, d.stride) for d in layout.dim) if len(layout.dim) else ()
        return dims, layout.data_offset, len(msg.data)

    def _build(self, msg: Any, key: Any) -> _Layout | None:
        if key == self._refused:
            return None
        if self.type_name == FLOAT64_MULTI_ARRAY:
            layout = self._build_multi_array(key)
        else:
            layout = self._build_joint_state(key)
        # Checked once per shape: the layout filled with this message's values must be rosbags' bytes.
        probe = self._typestore.types[self.type_name]
        filled = self._fill(layout, msg)
        reference = _reference_bytes(self._typestore, self.type_name, msg, probe)
        if reference is None or bytes(filled) != reference:
            self._refused = key
            return None
        self._layout = layout
        return layout

    def _fill(self, layout: _Layout, msg: Any) -> bytearray:
        if self.type_name == FLOAT64_MULTI_ARRAY:
            np.copyto(layout.views[0], msg.data)
        else:
            _STAMP.pack_into(layout.buf, _BODY, msg.header.stamp.sec, msg.header.stamp.nanosec)
            for view, values in zip(layout.views, (msg.position, msg.velocity, msg.effort)):
                np.copyto(view, values)
        return layout.buf

    @staticmethod
    def _build_multi_array(key: Any) -> _Layout:
        dims, data_offset, count = key
        parts = [b"\0\x01\0\0", struct.pack("<I", len(dims))]
        offset = _BODY + 4
        for label, size, stride in dims:
            offset = _string(parts, offset, label)
            pad = _align(offset, 4) - offset
            parts.append(b"\0" * pad + struct.pack("<II", size, stride))
            offset += pad + 8
        pad = _align(offset, 4) - offset
        parts.append(b"\0" * pad + struct.pack("<I", data_offset))
        offset += pad + 4
        buf, views = _with_sequences(b"".join(parts), (count,))
        return _Layout(key, buf, views)

    @staticmethod
    def _build_joint_state(key: Any) -> _Layout:
        frame_id, names, n_pos, n_vel, n_eff = key
        parts = [b"\0\x01\0\0", b"\0" * 8]  # the stamp, written per message
        offset = _string(parts, _BODY + 8, frame_id)
        pad = _align(offset, 4) - offset
        parts.append(b"\0" * pad + struct.pack("<I", len(names)))
        offset += pad + 4
        for name in names:
            offset = _string(parts, offset, name)
        buf, views = _with_sequences(b"".join(parts), (n_pos, n_vel, n_eff))
        return _Layout(key, buf, views)


def _reference_bytes(typestore: Any, type_name: str, msg: Any, cls: type) -> bytes | None:
    """rosbags' bytes for `msg` (numeric fields as float64 arrays, as the slow path normalises them), padded."""
    from leapp_ros.transport.dds_raw import pad4
    from leapp_ros.transport.ros_types import normalize_message

    try:
        if type_name == FLOAT64_MULTI_ARRAY:
            copy = cls(layout=msg.layout, data=np.asarray(msg.data, np.float64))
        else:
            copy = cls(header=msg.header, name=list(msg.name), position=np.asarray(msg.position, np.float64),
                       velocity=np.asarray(msg.velocity, np.float64), effort=np.asarray(msg.effort, np.float64))
        normalize_message(typestore, copy)
        return pad4(typestore.serialize_cdr(copy, type_name))
    except Exception:  # noqa: BLE001 - rosbags cannot serialise it: neither may the fast path
        return None
