"""`leapp-ros replay BUNDLE.yaml --inputs FILE [--check]`: reset, run every input frame, write every output, and
optionally compare them with the outputs recorded in the same file (exit 1 when they differ)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from leapp_ros.bundle import Bundle
from leapp_ros.cli.common import add_backend_arguments, backend_options
from leapp_ros.engine import Engine
from leapp_ros.errors import LeappRosError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="bundle YAML (or its directory)")
    parser.add_argument("--inputs", required=True,
                        help=".npz with one [steps, *shape] array per 'node/input' key, or JSON "
                             "{'steps': [{'inputs': {'node/input': [...]}, 'outputs': {...}}]} (inference_check.json; "
                             "a value may also be {'shape': ..., 'dtype': ..., 'values': [...]}, as in golden_io.json)")
    parser.add_argument("--check", action="store_true",
                        help="compare every output with the file's recorded 'outputs': exit 0 when all are within "
                             "tolerance, 1 when any differs (the worst one is named)")
    parser.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance of --check (default 1e-5)")
    parser.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance of --check (default 1e-4)")
    parser.add_argument("--steps", type=int, help="run only the first N frames")
    parser.add_argument("--json", dest="json_out", metavar="OUT", help="write the result here instead of stdout")
    add_backend_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.atol < 0 or args.rtol < 0:
        raise LeappRosError("--atol and --rtol must be >= 0")
    with Engine.load(args.bundle, backend_options(args)) as engine:
        frames = read_frames(Path(args.inputs), engine.bundle)
        expected = read_expected(Path(args.inputs), engine.bundle) if args.check else []
        if args.steps is not None:
            if args.steps < 0:
                raise LeappRosError(f"--steps must be >= 0, got {args.steps}")
            frames, expected = frames[: args.steps], expected[: args.steps]
        steps = replay(engine, frames)
        result = {"bundle": str(engine.bundle.yaml_path), "backends": engine.describe(), "steps": steps}
    text = json.dumps(result, indent=1)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
        print(f"wrote {len(result['steps'])} steps to {args.json_out}", file=sys.stderr)
    elif not args.check:
        print(text)
    if not args.check:
        return 0
    ok, summary = check_outputs(steps, expected, args.atol, args.rtol)
    print(summary, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def check_outputs(steps: list[dict[str, Any]], expected: list[dict[str, np.ndarray]], atol: float,
                  rtol: float) -> tuple[bool, str]:
    """(all within tolerance, one line): each recorded output against the replayed one, |got - want| <= atol +
    rtol * |want| element-wise; the line names the worst element (relative to its tolerance)."""
    worst: tuple[float, int, str, int, float, float] | None = None  # (error / tolerance, step, key, index, got, want)
    failed = compared = 0
    for index, (step, want_outputs) in enumerate(zip(steps, expected)):
        for key, want in want_outputs.items():
            got = np.asarray(step["outputs"][key], dtype=np.float64)
            want = want.ravel()
            error = np.abs(got - want) / (atol + rtol * np.abs(want))
            at = int(np.argmax(error)) if error.size else 0
            compared += 1
            failed += bool((error > 1.0).any())
            if error.size and (worst is None or error[at] > worst[0]):
                worst = (float(error[at]), index, key, at, float(got[at]), float(want[at]))
    where = ("" if worst is None else f"; worst: step {worst[1]} '{worst[2]}'[{worst[3]}] = {worst[4]:.7g}, "
             f"recorded {worst[5]:.7g} (abs error {abs(worst[4] - worst[5]):.3g})")
    if failed:
        return False, (f"check FAILED: {failed} of {compared} recorded outputs differ beyond atol {atol:g} + "
                       f"rtol {rtol:g} x |recorded|{where}")
    return True, (f"check passed: {compared} recorded outputs over {len(expected)} steps within atol {atol:g} + "
                  f"rtol {rtol:g} x |recorded|{where}")


def replay(engine: Engine, frames: list[dict[str, np.ndarray]]) -> list[dict[str, Any]]:
    """Reset, then run the frames in order; each step keeps its inputs and all outputs as flat lists."""
    engine.reset()
    steps = []
    for index, frame in enumerate(frames):
        outputs = engine.run(frame)
        steps.append({"step": index,
                      "inputs": {k: v.ravel().tolist() for k, v in frame.items()},
                      "outputs": {k: v.ravel().tolist() for k, v in outputs.items()}})
    return steps


def read_frames(path: Path, bundle: Bundle) -> list[dict[str, np.ndarray]]:
    """Input frames shaped and typed as the bundle's pipeline inputs; every input in every frame."""
    if not path.is_file():
        raise LeappRosError(f"inputs file '{path}' does not exist")
    ports = {p.key: p for p in bundle.inputs}
    if path.suffix == ".npz":
        with np.load(path) as data:
            series = {key: data[key] for key in data.files}
        _check_keys(path, set(series), ports)
        lengths = {key: len(value) for key, value in series.items()}
        if len(set(lengths.values())) > 1:
            raise LeappRosError(f"inputs file '{path}': arrays have different step counts {lengths}")
        steps = next(iter(lengths.values()), 0)
        raw_steps = [{key: value[i] for key, value in series.items()} for i in range(steps)]
    else:
        try:
            document = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise LeappRosError(f"inputs file '{path}' is not valid JSON: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("steps"), list):
            raise LeappRosError(f"inputs file '{path}': expected {{'steps': [{{'inputs': {{...}}}}]}}")
        raw_steps = []
        for index, step in enumerate(document["steps"]):
            inputs = step.get("inputs") if isinstance(step, dict) else None
            if not isinstance(inputs, dict):
                raise LeappRosError(f"inputs file '{path}': step {index} has no 'inputs' mapping")
            _check_keys(path, set(inputs), ports, step=index)
            raw_steps.append(inputs)
    return [{key: _as_port_array(path, i, key, value, ports[key]) for key, value in step.items()}
            for i, step in enumerate(raw_steps)]


def _check_keys(path: Path, keys: set[str], ports: dict, step: int | None = None) -> None:
    where = f"inputs file '{path}'" + (f", step {step}" if step is not None else "")
    missing, unknown = sorted(set(ports) - keys), sorted(keys - set(ports))
    if missing:
        raise LeappRosError(f"{where}: missing pipeline inputs {missing}")
    if unknown:
        raise LeappRosError(f"{where}: unknown inputs {unknown} (pipeline inputs: {sorted(ports)})")


def read_expected(path: Path, bundle: Bundle) -> list[dict[str, np.ndarray]]:
    """The recorded outputs of every step (flat float64), for --check; refused when the file has none."""
    if path.suffix == ".npz":
        raise LeappRosError(f"inputs file '{path}': --check needs recorded outputs, which a .npz file does not hold")
    outputs = {p.key for p in bundle.outputs}
    expected = []
    for index, step in enumerate(json.loads(path.read_text())["steps"]):
        recorded = step.get("outputs")
        if not isinstance(recorded, dict) or not recorded:
            raise LeappRosError(f"inputs file '{path}': step {index} has no recorded 'outputs' to --check against")
        unknown = sorted(set(recorded) - outputs)
        if unknown:
            raise LeappRosError(f"inputs file '{path}', step {index}: recorded outputs {unknown} are not outputs of "
                                f"the bundle (its outputs: {sorted(outputs)})")
        expected.append({key: _values(path, index, key, value, np.float64).ravel() for key, value in recorded.items()})
    return expected


def _values(path: Path, step: int, key: str, value: Any, dtype: Any) -> np.ndarray:
    """A recorded value: a (nested) list of numbers, or {'shape': [...], 'dtype': ..., 'values': [...]}."""
    if isinstance(value, dict):
        if "values" not in value:
            raise LeappRosError(f"inputs file '{path}', step {step}, '{key}': a mapping needs a 'values' list")
        value = value["values"]
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise LeappRosError(f"inputs file '{path}', step {step}, '{key}': not a list of numbers") from None


def _as_port_array(path: Path, step: int, key: str, value: Any, port) -> np.ndarray:
    array = _values(path, step, key, value, port.dtype)
    if array.size != port.size:
        raise LeappRosError(f"inputs file '{path}', step {step}, input '{key}': {array.size} values, "
                            f"the port {list(port.shape)} needs {port.size}")
    return np.ascontiguousarray(array.reshape(port.shape))
