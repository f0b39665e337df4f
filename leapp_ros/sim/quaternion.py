"""Quaternion component orders: MuJoCo's (w, x, y, z) vs ROS / Isaac Lab 3.0's (x, y, z, w)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from leapp_ros.errors import ConfigurationError

_CANONICAL = "wxyz"  # MuJoCo's storage order


def quat_order(spec: str | Sequence[str]) -> str:
    """Normalise an order given as ``"xyzw"`` or as element names (``["qx","qy","qz","qw"]``, ``["w","x","y","z"]``)."""
    parts = list(spec) if isinstance(spec, str) else [str(n) for n in spec]
    letters = "".join(p[1:] if len(p) == 2 and p[0] in "qQ" else p for p in parts).lower()
    if len(parts) != 4 or sorted(letters) != sorted(_CANONICAL):
        raise ConfigurationError(
            f"quaternion component order {spec!r} is not a permutation of w, x, y, z "
            "(accepted: 'xyzw', 'wxyz' or element names such as [qx, qy, qz, qw])")
    return letters


def reorder_quat(q: np.ndarray, src: str | Sequence[str], dst: str | Sequence[str]) -> np.ndarray:
    """Return ``q`` (last axis = 4 components in order ``src``) with its components in order ``dst``."""
    src_o, dst_o = quat_order(src), quat_order(dst)
    q = np.asarray(q)
    if q.shape[-1] != 4:
        raise ConfigurationError(f"a quaternion needs 4 components, got shape {q.shape}")
    return q[..., [src_o.index(c) for c in dst_o]]
