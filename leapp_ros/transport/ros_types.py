"""ROS 2 message definitions per distro from rosbags: classes, defaults, CDR codec and REP-2011 type hashes."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import numpy as np

from leapp_ros.message_types import QUATERNION
from leapp_ros.transport.errors import TransportError

# Distro name -> rosbags store name (rolling follows rosbags' newest ROS 2 store).
DISTRO_STORES: dict[str, str] = {
    "humble": "ros2_humble",
    "iron": "ros2_iron",
    "jazzy": "ros2_jazzy",
    "kilted": "ros2_kilted",
    "rolling": "ros2_lyrical",
}
DEFAULT_DISTRO = "jazzy"

# ROS primitive -> numpy dtype used by rosbags for arrays/sequences of that primitive.
NUMPY_DTYPES: dict[str, Any] = {
    "bool": np.bool_, "byte": np.uint8, "char": np.uint8,
    "int8": np.int8, "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16,
    "int32": np.int32, "uint32": np.uint32, "int64": np.int64, "uint64": np.uint64,
    "float32": np.float32, "float64": np.float64,
}

# Non-zero defaults from the .msg files, which rosbags' definitions do not carry (rclpy has them).
MSG_DEFAULT_OVERRIDES: dict[str, dict[str, Any]] = {QUATERNION: {"w": 1.0}}

# rosbags' field-description node kinds (rosbags.typesys.base.Nodetype values).
_BASE, _NAME, _ARRAY, _SEQUENCE = 1, 2, 3, 4


def _require_rosbags() -> Any:
    try:
        import rosbags.typesys as typesys
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise TransportError(
            "the DDS transport needs the 'rosbags' package: pip install rosbags==0.11.9") from exc
    return typesys


@functools.cache
def get_ros_typestore(distro: str = DEFAULT_DISTRO) -> Any:
    """The rosbags Typestore holding every standard message definition of ``distro``."""
    if distro not in DISTRO_STORES:
        raise TransportError(f"unknown ros_distro {distro!r}; expected one of {sorted(DISTRO_STORES)}")
    typesys = _require_rosbags()
    return typesys.get_typestore(typesys.Stores(DISTRO_STORES[distro]))


def check_type_name(typestore: Any, type_name: str) -> None:
    """Raise a clear error unless ``type_name`` is a known ``pkg/msg/Name`` message type."""
    parts = type_name.split("/")
    if len(parts) != 3 or parts[1] != "msg" or not all(parts):
        raise TransportError(f"message type {type_name!r} is not of the form 'pkg/msg/Name'")
    if type_name not in typestore.fielddefs:
        raise TransportError(
            f"message type {type_name!r} is not in rosbags' message store for this distro; "
            "register custom types with typestore.register(get_types_from_msg(...))")


def iter_type_closure(typestore: Any, type_name: str) -> Iterator[str]:
    """Yield ``type_name`` and every message type nested in it, dependencies first."""
    seen: set[str] = set()

    def visit(name: str) -> Iterator[str]:
        if name in seen:
            return
        seen.add(name)
        for _, desc in typestore.fielddefs[name][1]:
            nested = _nested_name(desc)
            if nested:
                yield from visit(nested)
        yield name

    yield from visit(type_name)


def _nested_name(desc: tuple[Any, Any]) -> str | None:
    kind, rest = int(desc[0]), desc[1]
    if kind == _NAME:
        return rest
    if kind in (_ARRAY, _SEQUENCE):
        return _nested_name(rest[0])
    return None


def default_value(typestore: Any, desc: tuple[Any, Any]) -> Any:
    """The ROS default for one field description (zeros, empty strings, empty numpy sequences)."""
    kind, rest = int(desc[0]), desc[1]
    if kind == _BASE:
        prim = rest[0]
        return "" if prim == "string" else False if prim == "bool" else 0.0 if prim.startswith("float") else 0
    if kind == _NAME:
        return default_message(typestore, rest)
    elem, size = rest
    elem_kind, elem_rest = int(elem[0]), elem[1]
    numeric = elem_kind == _BASE and elem_rest[0] in NUMPY_DTYPES
    if kind == _ARRAY:
        if numeric:
            return np.zeros(size, dtype=NUMPY_DTYPES[elem_rest[0]])
        return [default_value(typestore, elem) for _ in range(size)]
    return np.zeros(0, dtype=NUMPY_DTYPES[elem_rest[0]]) if numeric else []


def default_message(typestore: Any, type_name: str) -> Any:
    """A message of ``type_name`` with every field at its ROS default."""
    cls = typestore.types[type_name]
    values = {name: default_value(typestore, desc) for name, desc in typestore.fielddefs[type_name][1]}
    values.update(MSG_DEFAULT_OVERRIDES.get(type_name, {}))
    return cls(**values)


def new_message(typestore: Any, type_name: str, fields: dict[str, Any]) -> Any:
    """A message with defaults filled and ``fields`` applied; numeric lists become numpy arrays."""
    check_type_name(typestore, type_name)
    msg = default_message(typestore, type_name)
    known = {name for name, _ in typestore.fielddefs[type_name][1]}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise TransportError(f"{type_name} has no field(s) {unknown}; fields are {sorted(known)}")
    for name, value in fields.items():
        setattr(msg, name, value)
    normalize_message(typestore, msg)
    return msg


def normalize_message(typestore: Any, msg: Any) -> None:
    """Convert, in place and recursively, numeric list/tuple fields to the numpy arrays rosbags needs."""
    for name, desc in typestore.fielddefs[msg.__msgtype__][1]:
        kind, rest = int(desc[0]), desc[1]
        value = getattr(msg, name)
        if kind == _NAME:
            normalize_message(typestore, value)
        elif kind in (_ARRAY, _SEQUENCE):
            elem_kind, elem_rest = int(rest[0][0]), rest[0][1]
            if elem_kind == _BASE and elem_rest[0] in NUMPY_DTYPES:
                arr = np.asarray(value, dtype=NUMPY_DTYPES[elem_rest[0]])
                if kind == _ARRAY and arr.shape != (rest[1],):
                    raise TransportError(
                        f"{msg.__msgtype__}.{name} must hold exactly {rest[1]} values, got shape {arr.shape}")
                setattr(msg, name, arr)
            elif elem_kind == _NAME:
                for item in value:
                    normalize_message(typestore, item)


@functools.cache
def ros_type_hash(distro: str, type_name: str) -> str:
    """The REP-2011 ``RIHS01_...`` hash ROS announces for ``type_name``.

    rosbags hashes ROS ``char`` as CHAR, but rosidl turns ``.msg`` ``char`` into IDL ``uint8``
    before hashing; re-register the type closure with ``char`` -> ``uint8`` and hash that.
    """
    typestore = get_ros_typestore(distro)
    check_type_name(typestore, type_name)
    typesys = _require_rosbags()
    corrected = typesys.get_typestore(typesys.Stores.EMPTY)
    corrected.register({
        name: (typestore.fielddefs[name][0],
               [(field, _char_as_uint8(desc)) for field, desc in typestore.fielddefs[name][1]])
        for name in iter_type_closure(typestore, type_name)
    })
    return corrected.hash_rihs01(type_name)


def _char_as_uint8(desc: tuple[Any, Any]) -> tuple[Any, Any]:
    kind, rest = desc
    if int(kind) == _BASE and rest[0] == "char":
        return (kind, ("uint8", rest[1]))
    if int(kind) in (_ARRAY, _SEQUENCE):
        return (kind, (_char_as_uint8(rest[0]), rest[1]))
    return desc
