"""User-facing error types: every message names the culprit (file, node, port, topic or joint)."""

from __future__ import annotations

from collections.abc import Callable

from leapp_ros.text import clip

MAX_MESSAGE = 4000


class LeappRosError(Exception):
    """Base class of errors reported to the user as one line, without a traceback."""

    def __init__(self, *args: object) -> None:
        if len(args) == 1 and isinstance(args[0], str) and len(args[0]) > MAX_MESSAGE:
            args = (args[0][:MAX_MESSAGE - 3] + "...",)  # bounded whatever a bundle put in it (CLIs print one line)
        super().__init__(*args)


class BundleError(LeappRosError):
    """A bundle that cannot be loaded: malformed YAML, inconsistent graph, bad model file."""

    def __init__(self, message: str, *, file: str | None = None, node: str | None = None,
                 port: str | None = None) -> None:
        where = ", ".join(
            f"{label} '{clip(str(value), 120)}'" for label, value in (("file", file), ("node", node), ("port", port))
            if value is not None)
        super().__init__(clip(f"{where}: {message}" if where else message))  # one line, always
        self.file, self.node, self.port = file, node, port


class UncheckedBundleError(BundleError):
    """A bundle refused by the loader's last-resort guard: no explicit check caught it (a gap to close)."""


BundleFail = Callable[..., BundleError]  # makes a BundleError from a message and (file/node/port) context


class EngineError(LeappRosError):
    """A runtime inference failure: wrong input, backend failure, missing backend library."""


class ConfigurationError(LeappRosError):
    """A deployment that cannot be configured: missing joints, unbindable ports, bad parameters."""
