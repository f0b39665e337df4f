"""User-facing error types: every message names the culprit (file, node, port, topic or joint)."""

from __future__ import annotations

from leapp_ros.text import clip


class LeappRosError(Exception):
    """Base class of errors reported to the user as one line, without a traceback."""


class BundleError(LeappRosError):
    """A bundle that cannot be loaded: malformed YAML, inconsistent graph, bad model file."""

    def __init__(self, message: str, *, file: str | None = None, node: str | None = None,
                 port: str | None = None) -> None:
        where = ", ".join(
            f"{label} '{clip(str(value), 120)}'" for label, value in (("file", file), ("node", node), ("port", port))
            if value is not None)
        super().__init__(clip(f"{where}: {message}" if where else message))  # one bounded line, always
        self.file, self.node, self.port = file, node, port


class UncheckedBundleError(BundleError):
    """A bundle refused by the loader's last-resort guard: no explicit check caught it (a gap to close)."""


class EngineError(LeappRosError):
    """A runtime inference failure: wrong input, backend failure, missing backend library."""


class ConfigurationError(LeappRosError):
    """A deployment that cannot be configured: missing joints, unbindable ports, bad parameters."""
