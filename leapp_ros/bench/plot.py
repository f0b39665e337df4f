"""`bench --plot`: per-tick latency histograms of every timed runtime in one PNG (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from leapp_ros.errors import LeappRosError
from leapp_ros.percentiles import percentiles


def write_histogram(samples_ns: dict[str, np.ndarray], path: str | Path, title: str) -> Path:
    """One step histogram per runtime on a log time axis, with p50 and p99 marked."""
    try:
        import matplotlib
        matplotlib.use("Agg")  # no display on robots and CI
        import matplotlib.pyplot as plt
    except ImportError:
        raise LeappRosError("--plot needs matplotlib: pip install matplotlib") from None
    if not samples_ns:
        raise LeappRosError("--plot: no timed runtime to plot")
    us = {label: np.asarray(values, dtype=np.float64) / 1e3 for label, values in samples_ns.items() if len(values)}
    low = max(min(float(v.min()) for v in us.values()), 1e-3)
    high = max(float(v.max()) for v in us.values())
    bins = np.geomspace(low, high * 1.0001 if high > low else low * 2, 80).tolist()
    figure, axes = plt.subplots(figsize=(9, 5), dpi=110)
    try:
        for index, (label, values) in enumerate(us.items()):
            colour = f"C{index % 10}"
            p = percentiles(values)
            p50, p99 = float(p["p50"] or 0.0), float(p["p99"] or 0.0)  # every runtime here has samples
            axes.hist(values, bins=bins, histtype="step", linewidth=1.5, color=colour,
                      label=f"{label}: p50 {p50:.1f} us, p99 {p99:.1f} us")
            axes.axvline(p50, color=colour, linestyle="-", alpha=0.4)
            axes.axvline(p99, color=colour, linestyle=":", alpha=0.6)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("tick latency (us, log)")
        axes.set_ylabel("ticks")
        axes.set_title(title)
        axes.legend(fontsize=8)
        axes.grid(True, which="both", alpha=0.2)
        figure.tight_layout()
        out = Path(path)
        figure.savefig(out, format="png")
    finally:
        plt.close(figure)
    return out
