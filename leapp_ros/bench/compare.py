"""`bench --compare`: every registered backend that can run the bundle, built side by side, and the ratios."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from leapp_ros.bench.runtimes import Runtime, engine_runtime
from leapp_ros.bundle import Bundle
from leapp_ros.engine import BackendOptions, backend_names
from leapp_ros.engine.backends import NATURAL, REGISTRY

CPU_BACKENDS = ("onnxruntime", "torch")  # the core's backends; every other registered one runs on a CUDA device


def compare_backends(bundle: Bundle, device: str) -> list[tuple[str, str]]:
    """(backend, device) for each registered backend whose formats cover every node, except the natural one
    (that is the `leapp_ros` auto row already)."""
    formats = {node.backend for node in bundle.nodes}
    natural = {NATURAL[f] for f in formats}
    found = []
    for name in backend_names():
        if not formats <= set(REGISTRY[name].formats) or {name} == natural:
            continue
        if name in CPU_BACKENDS:
            found.append((name, device))
        else:
            found.append((name, device if device.startswith("cuda") else "cuda"))
    return found


def backend_runtimes(bundle: Bundle, options: BackendOptions, frame: dict[str, np.ndarray]
                     ) -> tuple[list[Runtime], list[dict[str, Any]]]:
    """An engine runtime per compare backend, and {label, backend, device, reason} for those that cannot run here."""
    runtimes, unavailable = [], []
    for name, device in compare_backends(bundle, options.device):
        label = f"leapp_ros[{name}]"
        try:
            runtimes.append(engine_runtime(bundle, dataclasses.replace(options, backend=name, device=device),
                                           frame, label=label))
        except Exception as exc:  # noqa: BLE001 - a missing GPU stack is a row in the report, not a crash
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            unavailable.append({"label": label, "backend": name, "device": device, "reason": reason})
    return runtimes, unavailable


def p50_ratios(results: list[dict[str, Any]], compare: bool = False) -> dict[str, float]:
    """Ratios of median tick times: ours over raw onnxruntime, and leapp's InferenceManager over ours; with
    `compare`, also every other row over raw onnxruntime, and each other backend over the `leapp_ros` (auto) row."""
    p50 = {r.get("label", r["runtime"]): r["p50_us"] for r in results if r.get("p50_us")}
    ratios: dict[str, float] = {}
    if "leapp_ros" in p50 and "onnxruntime" in p50:
        ratios["leapp_ros_over_onnxruntime"] = round(p50["leapp_ros"] / p50["onnxruntime"], 3)
    if "leapp_ros" in p50 and "leapp.InferenceManager" in p50:
        ratios["inference_manager_over_leapp_ros"] = round(p50["leapp.InferenceManager"] / p50["leapp_ros"], 3)
    if compare:
        for label, value in p50.items():
            if "onnxruntime" in p50 and label not in ("leapp_ros", "onnxruntime"):
                ratios[f"{label}_over_onnxruntime"] = round(value / p50["onnxruntime"], 3)
            if "leapp_ros" in p50 and label.startswith("leapp_ros["):
                ratios[f"{label}_over_leapp_ros"] = round(value / p50["leapp_ros"], 3)
    return ratios
