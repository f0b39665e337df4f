"""Last-resort boundary of the loader: whatever a hostile bundle makes escape the checks becomes one BundleError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from leapp_ros.errors import LeappRosError, UncheckedBundleError
from leapp_ros.text import clip

T = TypeVar("T")


def guarded_load(load: Callable[..., T], path: str | Path, **kwargs: object) -> T:
    """Run `load(path, **kwargs)`; product errors pass through, anything else is reported as one line.

    The explicit checks name the culprit; reaching the fallback is a gap in them (the fuzz test fails on
    UncheckedBundleError), but the user still gets one line and exit code 2, never a traceback.
    """
    try:
        return load(path, **kwargs)
    except LeappRosError:
        raise
    except (Exception, RecursionError, MemoryError) as exc:  # noqa: BLE001 - the boundary is the point
        raise UncheckedBundleError(f"the bundle cannot be loaded: {type(exc).__name__}: "
                                   f"{clip(str(exc), 200)}", file=clip(str(path), 200)) from None
