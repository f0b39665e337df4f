"""Metric-by-metric comparison of two bench documents: values, delta, ratio, and whether B is better or worse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

LOWER, HIGHER = "lower", "higher"  # which direction is better
SIGNIFICANT = 0.05  # relative change below which a metric is reported as unchanged

LATENCY = (("p50_us", LOWER), ("p90_us", LOWER), ("p99_us", LOWER), ("max_us", LOWER), ("mean_us", LOWER),
           ("throughput_hz", HIGHER))
PROCESS = (("cpu_share", LOWER), ("rss_bytes", LOWER), ("peak_rss_bytes", LOWER))
# section -> (dotted field inside it, better direction); `results` rows are handled by label
SECTIONS: dict[str, tuple[tuple[str, str | None], ...]] = {
    # the timed loop runs flat out: its CPU share says how much CPU the machine gave it, not better or worse
    "process": (("cpu_share", None), *PROCESS[1:]),
    "paced": (("achieved_hz", HIGHER), ("missed_deadlines", LOWER),
              *((f"tick.{f}", d) for f, d in LATENCY[:4]), ("interval.p99_abs_jitter_us", LOWER),
              *((f"process.{f}", d) for f, d in PROCESS[:2])),
    "e2e": (*((f"latency.{f}", d) for f, d in LATENCY[:4]), ("achieved_hz", HIGHER), ("missed_deadlines", LOWER),
            ("matched", HIGHER), *((f"node_process.{f}", d) for f, d in PROCESS[:2])),
    "sim": (("episodes_completed", HIGHER), ("success_rate", HIGHER), ("reward.mean", HIGHER),
            ("episode_length.mean", HIGHER), ("task_metric.mean", None)),
}
CONTEXT = (("bundle", ("name", "schema", "rate_hz")), ("hardware", ("cpu_model", "logical_cores", "usable_cores")),
           ("session_options", ("backend", "device", "intra_op_threads", "graph_optimization")),
           ("software", ("python", "numpy", "onnxruntime", "torch", "tensorrt", "leapp", "leapp_ros", "ros_distro")))


def metrics(document: dict[str, Any]) -> dict[str, tuple[float, str | None]]:
    """Every comparable number of a document by a stable dotted name, with its better direction."""
    found: dict[str, tuple[float, str | None]] = {}
    for row in document.get("results", []):
        label = row.get("label", row.get("runtime"))
        for field, direction in LATENCY:
            _put(found, f"results[{label}].{field}", row.get(field), direction)
    for name, value in document.get("ratios", {}).items():
        _put(found, f"ratios.{name}", value, None)
    for section, fields in SECTIONS.items():
        for field, section_direction in fields:
            _put(found, f"{section}.{field}", _get(document.get(section), field), section_direction)
    return found


def diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Rows {metric, a, b, delta, ratio, verdict} over the union of both documents' metrics, and context changes."""
    ma, mb = metrics(a), metrics(b)
    rows = []
    for name in list(ma) + [n for n in mb if n not in ma]:
        va, vb = ma.get(name, (None, None))[0], mb.get(name, (None, None))[0]
        direction = (ma.get(name) or mb[name])[1]
        row: dict[str, Any] = {"metric": name, "a": va, "b": vb, "delta": None, "ratio": None, "verdict": None}
        if va is not None and vb is not None:
            row["delta"] = vb - va
            row["ratio"] = vb / va if va else None
            row["verdict"] = _verdict(va, vb, direction)
        elif va is None:
            row["verdict"] = "only in B"
        else:
            row["verdict"] = "only in A"
        rows.append(row)
    return {"rows": rows, "context": list(context_changes(a, b))}


def context_changes(a: dict[str, Any], b: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """What differs between the two runs besides the figures: bundle, machine, options, software."""
    for section, keys in CONTEXT:
        for key in keys:
            va, vb = (a.get(section) or {}).get(key), (b.get(section) or {}).get(key)
            if va != vb:
                yield {"what": f"{section}.{key}", "a": va, "b": vb}
    sha_a = [n.get("sha256") for n in (a.get("bundle") or {}).get("nodes", [])]
    sha_b = [n.get("sha256") for n in (b.get("bundle") or {}).get("nodes", [])]
    if sha_a != sha_b:
        yield {"what": "bundle.nodes.sha256", "a": sha_a, "b": sha_b}
    gpus_a = [g.get("name") for g in (a.get("hardware") or {}).get("gpus", [])]
    gpus_b = [g.get("name") for g in (b.get("hardware") or {}).get("gpus", [])]
    if gpus_a != gpus_b:
        yield {"what": "hardware.gpus", "a": gpus_a, "b": gpus_b}


def format_diff(result: dict[str, Any], name_a: str, name_b: str) -> str:
    lines = [f"A = {name_a}", f"B = {name_b}"]
    lines += [f"  differs: {c['what']}: {c['a']!r} -> {c['b']!r}" for c in result["context"]]
    width = max([len("metric")] + [len(r["metric"]) for r in result["rows"]]) + 2
    lines.append(f"{'metric':<{width}}{'A':>14}{'B':>14}{'B-A':>14}{'B/A':>8}  verdict")
    for r in result["rows"]:
        ratio = f"{r['ratio']:>8.3f}" if r["ratio"] is not None else f"{'-':>8}"
        lines.append(f"{r['metric']:<{width}}{_num(r['a'])}{_num(r['b'])}{_num(r['delta'])}{ratio}  "
                     f"{r['verdict'] or ''}")
    return "\n".join(lines)


def _verdict(a: float, b: float, direction: str | None) -> str:
    if a == b or (a and abs(b / a - 1.0) < SIGNIFICANT):
        return "same"
    if direction is None:
        return "changed"
    return "better" if (b < a) == (direction == LOWER) else "worse"


def _get(section: Any, dotted: str) -> Any:
    value = section
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _put(found: dict[str, tuple[float, str | None]], name: str, value: Any, direction: str | None) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        found[name] = (float(value), direction)


def _num(value: float | None) -> str:
    if value is None:
        return f"{'-':>14}"
    return f"{value:>14.4g}" if abs(value) < 1e6 else f"{value:>14.4e}"
