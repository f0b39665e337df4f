"""Files a bundle references: paths kept inside the bundle, bounded one-time reads, SHA-256, initial values."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from leapp_ros.text import clip, quote

Fail = Callable[[str], Exception]
MAX_INITIAL_VALUES_BYTES = 256 << 20


def resolve_inside(directory: Path, relative: object, what: str, fail: Fail) -> Path:
    """Resolve `relative` against `directory`; refuse paths that leave it or cannot be read."""
    if not isinstance(relative, str) or not relative:
        raise fail(f"{what} must be a file name relative to the bundle, got {quote(relative)}")
    if "\x00" in relative:
        raise fail(f"{what} {quote(relative)} contains a NUL byte")
    try:
        root = directory.resolve()
        path = (root / relative).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop (Python < 3.13)
        raise fail(f"{what} {quote(relative)} cannot be resolved: "
                   f"{getattr(exc, 'strerror', None) or 'symbolic link loop'}") from None
    if not path.is_relative_to(root):
        raise fail(f"{what} {quote(relative)} escapes the bundle directory {root}")
    if not path.is_file():
        raise fail(f"{what} {quote(relative)} does not exist in {root}")
    return path


def read_once(path: Path, what: str, limit: int, fail: Fail) -> bytes:
    """The bytes of the regular file `path`, read once (no symlink followed, no FIFO waited on, bounded)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise fail(f"{what} '{path.name}' cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise fail(f"{what} '{path.name}' is not a regular file")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise fail(f"{what} '{path.name}' cannot be read: {exc.strerror}") from None
    if len(data) > limit:
        raise fail(f"{what} '{path.name}' is larger than {limit >> 20} MiB")
    return data


def check_sha256(data: bytes, name: str, expected: object, fail: Fail) -> str:
    """SHA-256 of `data` (the bytes that will run) against the bundle's `sha256sum`."""
    if not isinstance(expected, str) or len(expected) != 64 or any(c not in "0123456789abcdefABCDEF" for c in expected):
        raise fail(f"parameters.sha256sum must be a 64-digit hex string, got {quote(expected)}")
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected.lower():
        raise fail(f"SHA-256 of '{name}' is {actual}, the bundle says {expected}: "
                   "the model file was changed or corrupted after export")
    return actual


def load_initial_values(path: Path, fail: Fail) -> Mapping[str, np.ndarray]:
    """Read the safetensors file of feedback start values as read-only numpy arrays."""
    data = read_once(path, "initial values", MAX_INITIAL_VALUES_BYTES, fail)
    try:
        from safetensors.numpy import load
        values = load(data)
    except Exception as exc:  # noqa: BLE001 - safetensors raises SafetensorError, OSError, ...
        raise fail(f"initial values '{path.name}' are not a readable safetensors file: {clip(str(exc), 200)}") from None
    for array in values.values():
        array.setflags(write=False)
    return values
