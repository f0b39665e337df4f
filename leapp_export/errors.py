"""The one error type of the export toolchain; its message names the culprit."""

from __future__ import annotations

from leapp_ros.errors import LeappRosError


class ExportError(LeappRosError):
    """Invalid export input (file, term, joint, flag); reported as one line without a traceback."""


class CheckpointMismatch(ExportError):
    """A checkpoint whose tensors do not fit the actor rebuilt from the run's configs and the joint list."""


def require_module(name: str, purpose: str, pip_name: str | None = None):
    """Import an optional heavy dependency or raise an ExportError saying how to install it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ExportError(
            f"{purpose} needs the Python package '{pip_name or name}' ({exc}); "
            f"install it with: pip install {pip_name or name}") from exc
