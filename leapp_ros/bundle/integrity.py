"""Model bytes read once, verified by SHA-256 and handed to the runtime as is (no second read by path)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from leapp_ros.bundle import files
from leapp_ros.bundle.pt2_archive import check_pt2_archive
from leapp_ros.text import clip, quote

MAX_MODEL_BYTES = 2 << 30  # protobuf's limit for an ONNX model; far above any policy
EXTERNAL_DATA_HASHES = "external_data_sha256"  # leapp_ros extension: {location: sha256} for `.onnx.data` files

Fail = Callable[[str], Exception]


def verified_model_bytes(path: Path, fmt: str, params: Mapping[str, Any], directory: Path, verify: bool,
                         fail: Fail) -> tuple[bytes, str]:
    """Bytes the runtime will load for a node of format `fmt`, and the SHA-256 of the model file."""
    data = files.read_once(path, "model file", MAX_MODEL_BYTES, fail)
    if verify:
        digest = files.check_sha256(data, path.name, params["sha256sum"], fail)
    else:
        digest = hashlib.sha256(data).hexdigest()
    if fmt == "onnx":
        data = inline_external_data(data, path, directory, params.get(EXTERNAL_DATA_HASHES), fail)
    elif fmt == "pt2":
        check_pt2_archive(data, path.name, fail)
    return data, digest


def inline_external_data(data: bytes, path: Path, directory: Path, hashes: Any, fail: Fail) -> bytes:
    """Model bytes with every external-data tensor filled from a hashed file of the bundle (LEAPP hashes none)."""
    import onnx
    from onnx.external_data_helper import uses_external_data

    try:
        proto = onnx.load_model_from_string(data)
    except Exception as exc:  # noqa: BLE001 - protobuf DecodeError, ValueError, ...
        raise fail(f"'{path.name}' is not a readable ONNX model: {clip(str(exc), 200)}") from None
    external = [t for t in _all_tensors(proto.graph) if uses_external_data(t)]
    if not external:
        return data
    entries = [{e.key: e.value for e in t.external_data} for t in external]
    locations = sorted({e.get("location", "") for e in entries})
    if not isinstance(hashes, dict):
        raise fail(f"'{path.name}' keeps weights in external file(s) {quote(locations)} that no hash covers "
                   f"(the bundle's sha256sum covers the model file only): list their SHA-256 in "
                   f"parameters.{EXTERNAL_DATA_HASHES} or export with the weights inside the model")
    base = path.parent.relative_to(directory.resolve())
    blobs: dict[str, bytes] = {}
    for location in locations:
        if location not in hashes:
            raise fail(f"external data {quote(location)} of '{path.name}' has no SHA-256 in "
                       f"parameters.{EXTERNAL_DATA_HASHES}")
        data_path = files.resolve_inside(directory, str(base / location), f"external data of '{path.name}'", fail)
        blob = files.read_once(data_path, "external data", MAX_MODEL_BYTES, fail)
        files.check_sha256(blob, data_path.name, hashes[location], fail)
        blobs[location] = blob
    for tensor, entry in zip(external, entries):
        blob = blobs[entry.get("location", "")]
        try:
            offset = int(entry.get("offset", 0))
            length = int(entry.get("length", len(blob) - offset))
        except ValueError:
            raise fail(f"tensor {quote(tensor.name)} of '{path.name}' has a non-numeric external offset/length"
                       ) from None
        if offset < 0 or length < 0 or offset + length > len(blob):
            raise fail(f"tensor {quote(tensor.name)} of '{path.name}' reads past the end of its external data")
        tensor.raw_data = blob[offset:offset + length]
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT
    try:
        return bytes(proto.SerializeToString())
    except ValueError as exc:  # over protobuf's 2 GB limit
        raise fail(f"'{path.name}' with its external data is too large to load from memory: {exc}") from None


def _all_tensors(graph: Any) -> Iterator[Any]:  # initializers of the graph and of every subgraph (If/Loop bodies)
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            if attribute.g.ByteSize():
                yield from _all_tensors(attribute.g)
            for sub in attribute.graphs:
                yield from _all_tensors(sub)
