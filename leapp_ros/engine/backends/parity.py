"""Parity of a backend against the node's natural CPU backend (ONNX Runtime, or PyTorch for jit/pt2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from leapp_ros.bundle import ModelNode
from leapp_ros.engine.backends.base import Backend, BackendOptions
from leapp_ros.errors import EngineError

TOLERANCE = {"fp32": 1e-4, "fp16": 2e-2}  # relative: max|out - ref| / (max|ref| + 1e-6)
RANDOM_CASES = 4


@dataclass(frozen=True)
class ParityRow:
    case: str  # "random 0", "recorded 2", ...
    output: str
    max_abs: float
    relative: float


@dataclass(frozen=True)
class ParityReport:
    tolerance: float
    rows: tuple[ParityRow, ...]

    @property
    def worst(self) -> ParityRow | None:
        return max(self.rows, key=lambda r: r.relative, default=None)

    @property
    def ok(self) -> bool:
        return all(np.isfinite(r.relative) and r.relative <= self.tolerance for r in self.rows)

    def summary(self) -> str:
        w = self.worst
        if w is None:
            return "no cases"
        return (f"worst relative error {w.relative:.3g} (max |diff| {w.max_abs:.3g}) on output '{w.output}', "
                f"case {w.case}; tolerance {self.tolerance:g}; {len(self.rows)} comparisons")


def random_feed(node: ModelNode, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh random inputs for every port: normal floats, small non-negative integers, random booleans."""
    feed = {}
    for port in node.inputs:
        if port.dtype.kind == "f":
            feed[port.name] = rng.standard_normal(port.shape).astype(port.dtype)
        elif port.dtype.kind == "b":
            feed[port.name] = rng.integers(0, 2, port.shape).astype(bool)
        else:
            feed[port.name] = rng.integers(0, 4, port.shape).astype(port.dtype)
    return feed


def compare(candidate: Backend, reference: Backend, node: ModelNode,
            feeds: Iterable[tuple[str, Mapping[str, np.ndarray]]], tolerance: float) -> ParityReport:
    rows = []
    for case, feed in feeds:
        got, want = candidate.run(feed), reference.run(feed)
        for port, a, b in zip(node.outputs, got, want):
            a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
            max_abs = float(np.max(np.abs(a64 - b64))) if a64.size else 0.0
            scale = float(np.max(np.abs(b64))) if b64.size else 0.0
            rows.append(ParityRow(case, port.name, max_abs, max_abs / (scale + 1e-6)))
    return ParityReport(tolerance, tuple(rows))


def check_node(candidate: Backend, node: ModelNode, precision: str = "fp32",
               recorded: Sequence[Mapping[str, np.ndarray]] = (), seed: int = 0) -> ParityReport:
    """Run `candidate` and the natural CPU backend on random and recorded inputs; report every output."""
    from leapp_ros.engine.backends import create_backend

    if precision not in TOLERANCE:
        raise EngineError(f"unknown precision '{precision}' (known: {', '.join(TOLERANCE)})")
    reference = create_backend(node, BackendOptions(backend="auto", device="cpu"))
    try:
        rng = np.random.default_rng(seed)
        feeds: list[tuple[str, Mapping[str, np.ndarray]]] = [(f"random {i}", random_feed(node, rng))
                                                             for i in range(RANDOM_CASES)]
        feeds += [(f"recorded {i}", feed) for i, feed in enumerate(recorded)]
        return compare(candidate, reference, node, feeds, TOLERANCE[precision])
    finally:
        reference.close()


def require_parity(candidate: Backend, node: ModelNode, options: BackendOptions) -> ParityReport | None:
    """The configure-time check GPU backends run unless `extra["parity_check"]` is False; refuses on failure."""
    if options.extra.get("parity_check", True) is False:
        return None
    recorded_inputs: Any = options.extra.get("recorded_inputs", ())
    recorded = [{k.split("/", 1)[1]: v for k, v in feed.items() if k.split("/", 1)[0] == node.name}
                for feed in recorded_inputs]
    # Recorded ticks carry the external inputs; state inputs start from zeros as after a reset.
    recorded = [{p.name: np.asarray(feed.get(p.name, np.zeros(p.shape, p.dtype)), p.dtype).reshape(p.shape)
                 for p in node.inputs} for feed in recorded if feed]
    report = check_node(candidate, node, str(options.extra.get("precision", "fp32")), recorded)
    if not report.ok:
        raise EngineError(f"node '{node.name}': backend '{candidate.name}' fails parity with the CPU reference: "
                          f"{report.summary()}")
    return report
