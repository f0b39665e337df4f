"""`leapp-ros replay BUNDLE.yaml --inputs FILE`: reset, run every input frame, write every output."""

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
                             "{'steps': [{'inputs': {'node/input': [...]}}]} (the fixtures' layout)")
    parser.add_argument("--steps", type=int, help="run only the first N frames")
    parser.add_argument("--json", dest="json_out", metavar="OUT", help="write the result here instead of stdout")
    add_backend_arguments(parser)


def run(args: argparse.Namespace) -> int:
    with Engine.load(args.bundle, backend_options(args)) as engine:
        frames = read_frames(Path(args.inputs), engine.bundle)
        if args.steps is not None:
            if args.steps < 0:
                raise LeappRosError(f"--steps must be >= 0, got {args.steps}")
            frames = frames[: args.steps]
        result = {"bundle": str(engine.bundle.yaml_path), "backends": engine.describe(),
                  "steps": replay(engine, frames)}
    text = json.dumps(result, indent=1)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
        print(f"wrote {len(result['steps'])} steps to {args.json_out}", file=sys.stderr)
    else:
        print(text)
    return 0


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


def _as_port_array(path: Path, step: int, key: str, value: Any, port) -> np.ndarray:
    array = np.asarray(value, dtype=port.dtype)
    if array.size != port.size:
        raise LeappRosError(f"inputs file '{path}', step {step}, input '{key}': {array.size} values, "
                            f"the port {list(port.shape)} needs {port.size}")
    return np.ascontiguousarray(array.reshape(port.shape))
