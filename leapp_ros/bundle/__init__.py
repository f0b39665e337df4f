"""Load and validate LEAPP bundles of every known schema into typed, immutable objects."""

from leapp_ros.bundle.connection import Connection, parse_connection
from leapp_ros.bundle.loader import find_bundle_yaml, load_bundle
from leapp_ros.bundle.model import Bundle, Edge, ModelNode, Port, SchemaVersion
from leapp_ros.errors import BundleError

__all__ = ["Bundle", "BundleError", "Connection", "Edge", "ModelNode", "Port", "SchemaVersion",
           "find_bundle_yaml", "load_bundle", "parse_connection"]
