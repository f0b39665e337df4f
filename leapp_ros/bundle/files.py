"""Files a bundle references: model paths inside the bundle, SHA-256, ONNX external data, initial values."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

Fail = Callable[[str], Exception]


def resolve_inside(directory: Path, relative: object, what: str, fail: Fail) -> Path:
    """Resolve `relative` against `directory`; refuse paths that leave it or cannot be read."""
    if not isinstance(relative, str) or not relative:
        raise fail(f"{what} must be a file name relative to the bundle, got {relative!r}")
    root = directory.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise fail(f"{what} '{relative}' escapes the bundle directory {root}")
    if not path.is_file():
        raise fail(f"{what} '{relative}' does not exist in {root}")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise fail(f"{what} '{relative}' cannot be read: {exc.strerror}") from None
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, expected: object, fail: Fail) -> str:
    if not isinstance(expected, str) or len(expected) != 64:
        raise fail(f"parameters.sha256sum must be a 64-digit hex string, got {expected!r}")
    actual = sha256_of(path)
    if actual != expected.lower():
        raise fail(f"SHA-256 of '{path.name}' is {actual}, the bundle says {expected}: "
                   "the model file was changed or corrupted after export")
    return actual


def check_onnx_external_data(model_path: Path, bundle_dir: Path, fail: Fail) -> tuple[Path, ...]:
    """Every external-data file an ONNX model references must sit inside the bundle (leapp hashes none)."""
    try:
        import onnx
        from onnx.external_data_helper import uses_external_data
    except ImportError:  # onnxruntime still loads the model and reports missing files
        return ()
    try:
        proto = onnx.load(str(model_path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - onnx raises DecodeError, ValueError, ...
        raise fail(f"'{model_path.name}' is not a readable ONNX model: {exc}") from None
    locations: dict[str, None] = {}
    for tensor in _all_tensors(proto.graph):
        if uses_external_data(tensor):
            entry = {e.key: e.value for e in tensor.external_data}
            locations[entry.get("location", "")] = None
    base = model_path.parent.relative_to(bundle_dir.resolve())
    return tuple(resolve_inside(bundle_dir, str(base / loc), f"external weights of '{model_path.name}'", fail)
                 for loc in locations)


def _all_tensors(graph):  # initializers of the graph and of every subgraph (If/Loop bodies)
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.g.ByteSize():
                yield from _all_tensors(attribute.g)
            for sub in attribute.graphs:
                yield from _all_tensors(sub)


def load_initial_values(path: Path, fail: Fail) -> Mapping[str, np.ndarray]:
    """Read the safetensors file of feedback start values as read-only numpy arrays."""
    try:
        from safetensors.numpy import load_file
        values = load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - safetensors raises SafetensorError, OSError, ...
        raise fail(f"initial values '{path.name}' are not a readable safetensors file: {exc}") from None
    for array in values.values():
        array.setflags(write=False)
    return values
