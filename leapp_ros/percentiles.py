"""Percentiles of timing samples: the one helper the benches, the engine selection and the node's diagnostics use."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def percentiles(samples: npt.ArrayLike, qs: Sequence[float] = (50, 99)) -> dict[str, float | None]:
    """{"p50": ..., "p99": ...} (keys `p<q>`, e.g. "p99.9") of `samples`, in their unit; None when there are none."""
    values = np.asarray(samples, dtype=np.float64).ravel()
    if values.size == 0:
        return {f"p{q:g}": None for q in qs}
    return {f"p{q:g}": float(v) for q, v in zip(qs, np.percentile(values, list(qs)))}
