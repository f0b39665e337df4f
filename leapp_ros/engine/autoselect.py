"""Measured backend selection: time every available backend on the bundle, drop parity failures, pick by p99."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from leapp_ros.bundle import Bundle
from leapp_ros.engine.backends import BackendOptions
from leapp_ros.engine.backends.parity import TOLERANCE
from leapp_ros.errors import LeappRosError
from leapp_ros.percentiles import percentiles

if TYPE_CHECKING:
    from leapp_ros.engine.device_engine import DeviceEngine
    from leapp_ros.engine.pipeline import Engine

Feed = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Candidate:
    """One way to run the bundle: a backend name (or "auto" for each node's natural one), a device, settings."""

    label: str
    backend: str
    device: str = "cpu"
    extra: Mapping[str, object] = field(default_factory=dict)

    def options(self, base: BackendOptions | None = None) -> BackendOptions:
        base = base or BackendOptions()
        return dataclasses.replace(base, backend=self.backend, device=self.device, extra={**base.extra, **self.extra})

    @property
    def on_device(self) -> bool:
        return self.device.startswith("cuda")


def default_candidates(bundle: Bundle, cuda_device: str = "cuda") -> list[Candidate]:
    """Every combination worth timing for this bundle's model formats (unavailable ones are reported, not hidden)."""
    formats = {node.backend for node in bundle.nodes}
    found = [Candidate("cpu (natural, 1 thread)", "auto", "cpu")]
    if formats <= {"onnx"}:
        found += [Candidate("onnxruntime-cuda", "onnxruntime-cuda", cuda_device),
                  Candidate("onnxruntime-cuda (ort stream)", "onnxruntime-cuda", cuda_device,
                            {"ort_user_stream": False}),
                  Candidate("onnxruntime-tensorrt", "onnxruntime-tensorrt", cuda_device),
                  Candidate("tensorrt fp32 + graph", "tensorrt", cuda_device, {"cuda_graph": True}),
                  Candidate("tensorrt fp16 + graph", "tensorrt", cuda_device,
                            {"cuda_graph": True, "precision": "fp16"})]
    if formats <= {"jit", "pt2"}:
        found += [Candidate("torch-cuda", "torch-cuda", cuda_device),
                  Candidate("torch-cuda + graph", "torch-cuda", cuda_device, {"cuda_graph": True})]
    return found


def build_engine(bundle: Bundle, options: BackendOptions) -> Engine | DeviceEngine:
    """Engine for CPU runs, DeviceEngine (state kept on the GPU) for CUDA ones."""
    if options.device.startswith("cuda"):
        from leapp_ros.engine.device_engine import DeviceEngine
        return DeviceEngine(bundle, options)
    from leapp_ros.engine.pipeline import Engine
    return Engine(bundle, options)


def random_feeds(bundle: Bundle, count: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    feeds = []
    for _ in range(count):
        feed = {}
        for port in bundle.inputs:
            if port.dtype.kind == "f":
                feed[port.key] = (rng.standard_normal(port.shape) * 0.5).astype(port.dtype)
            else:
                feed[port.key] = rng.integers(0, 4, port.shape).astype(port.dtype)
        feeds.append(feed)
    return feeds


def time_ticks(run: Callable[[Feed], object], feeds: Sequence[Feed], warmup: int, ticks: int) -> np.ndarray:
    """Per-tick wall time in microseconds, rotating over `feeds` (never timing one cached input)."""
    for i in range(warmup):
        run(feeds[i % len(feeds)])
    samples = np.empty(ticks)
    clock = time.perf_counter_ns
    for i in range(ticks):
        feed = feeds[i % len(feeds)]
        start = clock()
        run(feed)
        samples[i] = clock() - start
    return samples / 1e3


def sequence_error(engine: Engine | DeviceEngine, reference: Engine, feeds: Sequence[Feed]) -> tuple[float, str]:
    """Worst relative error of `engine` against `reference` over a run of ticks from reset (feedback included)."""
    engine.reset()
    reference.reset()
    worst, where = 0.0, ""
    for i, feed in enumerate(feeds):
        got, want = engine.run(feed), reference.run(feed)
        for key, ref in want.items():
            ref64 = np.asarray(ref, np.float64)
            diff = float(np.max(np.abs(np.asarray(got[key], np.float64) - ref64))) if ref64.size else 0.0
            rel = diff / (float(np.max(np.abs(ref64))) + 1e-6) if ref64.size else 0.0
            if not np.isfinite(rel) or rel > worst:
                worst, where = (float("inf") if not np.isfinite(rel) else rel), f"tick {i}, output '{key}'"
    engine.reset()
    return worst, where


@dataclass
class BenchRow:
    label: str
    backend: str
    device: str
    status: str  # "ok" | "unavailable" | "parity-failed" | "error"
    detail: str = ""
    p50_us: float | None = None
    p99_us: float | None = None
    mean_us: float | None = None
    max_us: float | None = None
    parity_rel: float | None = None
    describe: list[dict[str, object]] = field(default_factory=list)


@dataclass
class Selection:
    chosen: Candidate | None
    rows: list[BenchRow]

    def table(self) -> str:
        head = f"{'candidate':34} {'status':14} {'p50 us':>9} {'p99 us':>9} {'max us':>9} {'parity':>9}  detail"
        lines = [head, "-" * len(head)]

        def fmt(v: float | None, spec: str) -> str:
            return format(v, spec) if v is not None else format("-", ">" + spec.split(".")[0])
        for r in self.rows:
            mark = " *" if self.chosen is not None and r.label == self.chosen.label else ""
            lines.append(f"{r.label + mark:34} {r.status:14} {fmt(r.p50_us, '9.1f')} {fmt(r.p99_us, '9.1f')} "
                         f"{fmt(r.max_us, '9.1f')} {fmt(r.parity_rel, '9.2g')}  {r.detail[:120]}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"chosen": self.chosen.label if self.chosen else None,
                "rows": [dataclasses.asdict(r) for r in self.rows]}


def measure(bundle: Bundle, candidates: Sequence[Candidate], *, warmup: int = 50, ticks: int = 500,
            recorded: Sequence[Feed] = (), base: BackendOptions | None = None,
            progress: Callable[[str], None] | None = None) -> Selection:
    """Build, check and time each candidate in turn (one at a time: GPU memory is freed between them)."""
    from leapp_ros.engine.pipeline import Engine

    feeds = list(recorded) + random_feeds(bundle, 8)
    rows: list[BenchRow] = []
    reference = Engine(bundle, BackendOptions())
    try:
        for cand in candidates:
            if progress is not None:
                progress(cand.label)
            options = cand.options(base)
            row = BenchRow(cand.label, cand.backend, cand.device, "ok")
            try:
                engine = build_engine(bundle, options)
            except LeappRosError as exc:
                row.status = "parity-failed" if "parity" in str(exc) else "unavailable"
                row.detail = str(exc)
                rows.append(row)
                continue
            except Exception as exc:  # noqa: BLE001 - a broken GPU stack must not stop the selection
                row.status, row.detail = "error", f"{type(exc).__name__}: {exc}"
                rows.append(row)
                continue
            try:
                row.describe = engine.describe()
                rel, where = sequence_error(engine, reference, feeds)
                row.parity_rel = rel
                tolerance = TOLERANCE[str(options.extra.get("precision", "fp32"))]
                if not rel <= tolerance:
                    row.status, row.detail = "parity-failed", f"relative error {rel:.3g} at {where} > {tolerance:g}"
                else:
                    samples = time_ticks(engine.run, feeds, warmup, ticks)
                    p = percentiles(samples)
                    row.p50_us, row.p99_us = p["p50"], p["p99"]
                    row.mean_us, row.max_us = float(samples.mean()), float(samples.max())
            except Exception as exc:  # noqa: BLE001
                row.status, row.detail = "error", f"{type(exc).__name__}: {exc}"
            finally:
                engine.close()
            rows.append(row)
    finally:
        reference.close()
    usable = [r for r in rows if r.status == "ok"]
    best = min(usable, key=lambda r: r.p99_us if r.p99_us is not None else math.inf) if usable else None
    chosen = next((c for c in candidates if best is not None and c.label == best.label), None)
    return Selection(chosen, rows)


def select(bundle: Bundle, *, warmup: int = 50, ticks: int = 500, recorded: Sequence[Feed] = (),
           base: BackendOptions | None = None, log: Callable[[str], None] | None = None,
           candidates: Sequence[Candidate] | None = None) -> Selection:
    """`backend: auto` at configure: measure the candidates (default: all for the bundle), log the table, choose."""
    candidates = default_candidates(bundle) if candidates is None else candidates
    selection = measure(bundle, candidates, warmup=warmup, ticks=ticks, recorded=recorded, base=base)
    if log is not None:
        log(f"backend auto-selection for '{bundle.name}' (fastest p99 among those passing parity):\n"
            + selection.table())
    if selection.chosen is None:
        raise LeappRosError(f"no backend can run bundle '{bundle.name}':\n{selection.table()}")
    return selection


def available_candidates(bundle: Bundle, cuda_device: str = "cuda") -> tuple[list[Candidate], list[str]]:
    """The candidates that can run on this machine, and one line per candidate family that cannot (and why)."""
    import importlib.util

    candidates = default_candidates(bundle, cuda_device)
    formats = {node.backend for node in bundle.nodes}
    skipped: list[str] = []
    cuda = _cuda_reason(formats)
    if cuda:
        skipped.append(f"GPU candidates: {cuda}")
        return [c for c in candidates if not c.on_device], skipped
    if importlib.util.find_spec("tensorrt") is None:
        skipped.append("tensorrt: the tensorrt module is not installed")
        candidates = [c for c in candidates if c.backend != "tensorrt"]
    return candidates, skipped


def _cuda_reason(formats: set[str]) -> str:
    """Why no GPU candidate can run here ('' when one can)."""
    if formats <= {"onnx"}:
        try:
            import onnxruntime
        except ImportError:
            return "onnxruntime is not installed"
        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            return "this onnxruntime has no CUDAExecutionProvider"
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (the GPU engine needs torch with CUDA)"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} sees no CUDA device"
    return ""


def create_engine(bundle: Bundle, options: BackendOptions, *, log: Callable[[str], None] | None = None,
                  warmup: int = 20, ticks: int = 200) -> tuple[Engine | DeviceEngine, str]:
    """The one engine factory (node, `bench`, `inspect`): returns (engine, a line saying what was chosen and why).

    `backend: auto` on `device: cpu` measures every candidate that can run here (CPU runtime, ONNX Runtime CUDA,
    torch-cuda with CUDA graphs, TensorRT when installed), drops those whose outputs differ from the CPU
    reference over a run of ticks from reset, and keeps the fastest at p99. With one candidate nothing is timed.
    An explicit backend, or a CUDA device, is built as asked (`DeviceEngine` on CUDA).
    """
    if options.backend != "auto" or options.device != "cpu":
        engine = build_engine(bundle, options)
        return engine, f"{options.backend} on {options.device} (as configured)"
    candidates, skipped = available_candidates(bundle)
    why = f" ({'; '.join(skipped)})" if skipped else ""
    if len(candidates) == 1:
        engine = build_engine(bundle, candidates[0].options(options))
        return engine, f"auto: {candidates[0].label}, the only candidate here{why}"
    selection = select(bundle, warmup=warmup, ticks=ticks, base=options, log=log, candidates=candidates)
    chosen = selection.chosen
    assert chosen is not None  # select raises when nothing can run
    row = next(r for r in selection.rows if r.label == chosen.label)
    engine = build_engine(bundle, chosen.options(options))
    return engine, (f"auto: {chosen.label} (p99 {row.p99_us:.0f} us, fastest of "
                    f"{sum(r.status == 'ok' for r in selection.rows)} matching the reference){why}")
