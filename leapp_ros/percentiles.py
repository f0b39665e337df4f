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


def column_percentiles(columns: npt.ArrayLike, qs: Sequence[float] = (50, 99)) -> np.ndarray:
    """Percentiles of every column of a (samples, columns) array in one call: row i holds percentile qs[i]."""
    return np.asarray(np.percentile(np.asarray(columns, dtype=np.float64), list(qs), axis=0))
