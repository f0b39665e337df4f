"""Lazy import of the optional ``mujoco`` package with an install hint when it is missing."""

from __future__ import annotations

from types import ModuleType

from leapp_ros.errors import ConfigurationError


def require_mujoco() -> ModuleType:
    """Return the ``mujoco`` module or raise a ConfigurationError saying how to install it."""
    try:
        import mujoco
    except ImportError as exc:  # pragma: no cover - exercised only on machines without mujoco
        raise ConfigurationError(
            f"the MuJoCo sim bridge needs the Python package 'mujoco' ({exc}); "
            "install it with: pip install mujoco") from exc
    return mujoco
