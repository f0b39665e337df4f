"""Replay an exported bundle from reset on the captured inputs and compare with the eager capture outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

RTOL, ATOL = 1e-3, 1e-5  # leapp's own compile_graph validation tolerances


def _runtime(yaml_path: Path):
    """leapp_ros's Engine when importable, else leapp.InferenceManager; returns (name, reset(), run(inputs))."""
    try:
        from leapp_ros.engine import Engine
    except ImportError:
        pass
    else:
        engine = Engine.load(yaml_path)
        return "leapp_ros.engine.Engine", engine.reset, engine.run, engine.close
    import torch
    from leapp import InferenceManager

    manager = InferenceManager(str(yaml_path))

    def run(inputs):
        # InferenceManager keeps and later zero-fills the tensors it is given: hand it copies.
        out = manager.run_policy({k: torch.from_numpy(v.copy()) for k, v in inputs.items()})
        return {k: v.detach().cpu().numpy().copy() for k, v in out.items()}

    return "leapp.InferenceManager", manager.reset, run, lambda: None


def _as_port_array(value) -> np.ndarray:
    array = value.detach().cpu().numpy()
    return array.astype(np.float32) if array.dtype.kind == "f" else array


def replay(yaml_path: Path, node: str, records: list[dict]) -> dict:
    """Run every captured step through the runtime; report per-output max abs error and pass/fail."""
    name, reset, run, close = _runtime(yaml_path)
    errors: dict[str, float] = {}
    steps = []
    step_errors: list[dict[str, dict[str, Any]]] = []
    try:
        reset()
        for k, record in enumerate(records):
            inputs = {f"{node}/{port}": _as_port_array(v) for port, v in record["inputs"].items()}
            outputs = run(inputs)
            step_err: dict[str, dict[str, Any]] = {}
            for port, expected in record["outputs"].items():
                key = f"{node}/{port}"
                if key not in outputs:
                    continue
                exp = expected.detach().cpu().numpy()
                got = np.asarray(outputs[key])
                err = float(np.max(np.abs(got.astype(np.float64) - exp.astype(np.float64)))) if exp.size else 0.0
                ok = bool(np.allclose(got, exp, rtol=RTOL, atol=ATOL)) and bool(np.all(np.isfinite(got)))
                step_err[port] = {"max_abs_error": err, "ok": ok}
                errors[port] = max(errors.get(port, 0.0), err)
            steps.append({"step": k, "outputs": step_err})
            step_errors.append(step_err)
    finally:
        close()
    passed = all(o["ok"] for s in step_errors for o in s.values())
    return {"runtime": name, "steps": len(steps), "rtol": RTOL, "atol": ATOL, "passed": passed,
            "max_abs_error": errors, "per_step": steps}


def cross_check(yaml_path: Path, steps: int = 5, seed: int = 0) -> dict:
    """Bundle-only check: leapp_ros's Engine vs leapp.InferenceManager from reset on random inputs."""
    import torch
    from leapp import InferenceManager

    from leapp_ros.engine import Engine

    engine = Engine.load(yaml_path)
    manager = InferenceManager(str(yaml_path))
    rng = np.random.default_rng(seed)
    errors: dict[str, float] = {}
    try:
        engine.reset()
        manager.reset()
        for _ in range(steps):
            inputs = {p.key: (0.3 * rng.standard_normal(p.shape)).astype(p.dtype) if np.dtype(p.dtype).kind == "f"
                      else np.zeros(p.shape, dtype=p.dtype) for p in engine.bundle.inputs}
            ours = engine.run(inputs)
            ref = manager.run_policy({k: torch.from_numpy(v.copy()) for k, v in inputs.items()})
            for key, value in ours.items():
                other = ref[key].detach().cpu().numpy()
                errors[key] = max(errors.get(key, 0.0), float(np.max(np.abs(value.astype(np.float64) - other)))
                                  if value.size else 0.0)
    finally:
        engine.close()
    passed = all(err <= ATOL for err in errors.values())
    return {"runtimes": ["leapp_ros.engine.Engine", "leapp.InferenceManager"], "steps": steps, "passed": passed,
            "max_abs_difference": errors}
