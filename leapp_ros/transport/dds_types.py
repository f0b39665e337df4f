"""Generate cyclonedds ``IdlStruct`` classes (ROS DDS names, @final, key-less, XCDR1) from rosbags definitions."""

from __future__ import annotations

from typing import Any

from leapp_ros.transport.errors import TransportError
from leapp_ros.transport.names import dds_type_name
from leapp_ros.transport.ros_types import check_type_name, iter_type_closure

# rosbags node kinds (see ros_types).
_BASE, _NAME, _ARRAY, _SEQUENCE = 1, 2, 3, 4


class IdlTypeFactory:
    """Builds and caches one ``IdlStruct`` class per ROS message type of one rosbags typestore."""

    def __init__(self, typestore: Any) -> None:
        from cyclonedds.idl import types as idl_types

        self._typestore = typestore
        self._types: Any = idl_types  # annotation factories (bounded_str[n], array[t, n]) typed loosely
        self._classes: dict[str, type] = {}
        t = idl_types
        self._primitive: dict[str, Any] = {
            "bool": bool, "byte": t.uint8, "char": t.uint8, "int8": t.int8, "uint8": t.uint8,
            "int16": t.int16, "uint16": t.uint16, "int32": t.int32, "uint32": t.uint32,
            "int64": t.int64, "uint64": t.uint64, "float32": t.float32, "float64": t.float64,
        }

    def get(self, type_name: str) -> type:
        """The ``IdlStruct`` class for ``type_name`` (``pkg/msg/Name``), nested types generated first."""
        check_type_name(self._typestore, type_name)
        for name in iter_type_closure(self._typestore, type_name):
            if name not in self._classes:
                self._classes[name] = self._build(name)
        return self._classes[type_name]

    def _build(self, type_name: str) -> type:
        from cyclonedds.idl import make_idl_struct

        fields = {name: self._annotation(type_name, name, desc)
                  for name, desc in self._typestore.fielddefs[type_name][1]}
        if not fields:  # rosidl gives empty messages one uint8 member
            fields = {"structure_needs_at_least_one_member": self._types.uint8}
        class_name = type_name.replace("/", "__")
        # No key fields and the default @final extensibility: XCDR1, as rmw_cyclonedds/rmw_fastrtps use.
        return make_idl_struct(class_name, dds_type_name(type_name), fields)

    def _annotation(self, type_name: str, field: str, desc: tuple[Any, Any]) -> Any:
        kind, rest = int(desc[0]), desc[1]
        if kind == _BASE:
            prim, bound = rest
            if prim == "string":
                return self._types.bounded_str[bound] if bound else str
            if prim not in self._primitive:
                raise TransportError(f"{type_name}.{field}: ROS type {prim!r} is not supported by the DDS adapter")
            return self._primitive[prim]
        if kind == _NAME:
            return self._classes[rest]
        elem = self._annotation(type_name, field, rest[0])
        if kind == _ARRAY:
            return self._types.array[elem, rest[1]]
        return self._types.sequence[elem, rest[1]] if rest[1] else self._types.sequence[elem]
