"""ROS 2 name rules: node/namespace validation, topic resolution (relative, ``~/`` private) and DDS mangling."""

from __future__ import annotations

import re

from leapp_ros.transport.errors import TransportError

_NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_node_name(node_name: str) -> str:
    """Return ``node_name`` or raise if ROS would reject it (letters, digits, '_'; no leading digit)."""
    if not _NODE_NAME.match(node_name or ""):
        raise TransportError(f"invalid ROS node name {node_name!r}: use letters, digits and '_', not starting "
                             "with a digit")
    return node_name


def normalize_namespace(namespace: str) -> str:
    """``''``/``'rl'``/``'/rl/'`` -> ``'/'``/``'/rl'``/``'/rl'``; raise on an invalid namespace."""
    stripped = (namespace or "").strip("/")
    if not stripped:
        return "/"
    for token in stripped.split("/"):
        if not _TOKEN.match(token):
            raise TransportError(f"invalid ROS namespace {namespace!r}: bad token {token!r}")
    return "/" + stripped


def resolve_topic(name: str, node_name: str, namespace: str) -> str:
    """Fully qualified ROS name for ``name`` as rcl resolves it for node ``namespace``/``node_name``.

    ``/x`` stays absolute, ``x`` becomes ``<ns>/x``, ``~`` and ``~/x`` become ``<ns>/<node>[/x]``;
    the substitutions ``{node}`` and ``{ns}``/``{namespace}`` are expanded first.
    """
    ns = normalize_namespace(namespace)
    node = validate_node_name(node_name)
    expanded = name.replace("{node}", node).replace("{namespace}", ns).replace("{ns}", ns)
    if expanded == "~" or expanded.startswith("~/"):
        base = ns.rstrip("/") + "/" + node
        full = base + expanded[1:]
    elif expanded.startswith("/"):
        full = expanded
    else:
        full = ns.rstrip("/") + "/" + expanded
    tokens = full.strip("/").split("/") if full != "/" else []
    if not name or full.endswith("/") or "//" in full or not tokens or not all(_TOKEN.match(t) for t in tokens):
        raise TransportError(f"invalid ROS topic name {name!r} (resolved to {full!r}) for node "
                             f"{ns.rstrip('/')}/{node}")
    return full


def dds_topic_name(resolved: str) -> str:
    """ROS topic ``/a/b`` -> DDS topic ``rt/a/b`` (rmw prefix for topics)."""
    return "rt" + resolved


def dds_type_name(type_name: str) -> str:
    """ROS type ``pkg/msg/Name`` -> DDS type ``pkg::msg::dds_::Name_`` (exact string both RMWs use)."""
    pkg, kind, name = type_name.split("/")
    return f"{pkg}::{kind}::dds_::{name}_"
