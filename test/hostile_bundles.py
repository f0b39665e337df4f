"""Builders of hostile bundles from the real fixtures: pickle payloads, swapped files, external data, raw YAML."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

from safety_helpers import bundle_yaml, edit_yaml, only_node

NODE = "Isaac-Velocity-Flat-Anymal-D"
ONNX, JIT, PT2 = f"{NODE}.onnx", f"{NODE}.pt", f"{NODE}.pt2"
MODEL_OF = {"anymal_like_flat": ONNX, "anymal_like_flat_jit": JIT, "anymal_like_flat_pt2": PT2}


class FileCreatingPayload:
    """Unpickling this creates `marker` (what a hostile pickle would do with a shell command instead)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickle_payload(marker: Path) -> bytes:
    return pickle.dumps(FileCreatingPayload(marker), protocol=2)


def rehash(directory: Path, model: str) -> None:
    """Make the bundle self-consistent again: its sha256sum states the (hostile) model's hash."""
    digest = hashlib.sha256((directory / model).read_bytes()).hexdigest()
    edit_yaml(directory, lambda y: only_node(y)["parameters"].__setitem__("sha256sum", digest))


def rewrite_pt2(directory: Path, change: Callable[[str, bytes], bytes | None],
                add: dict[str, bytes] | None = None) -> None:
    """Rewrite the .pt2 archive member by member (`change(relative_name, data)`: new data, or None to drop)."""
    path = directory / PT2
    with zipfile.ZipFile(path) as source:
        members = [(info.filename, source.read(info)) for info in source.infolist()]
    root = members[0][0].split("/", 1)[0] + "/"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for name, data in members:
            new = change(name[len(root):], data)
            if new is not None:
                target.writestr(name, new)
        for relative, data in (add or {}).items():
            target.writestr(root + relative, data)
    path.write_bytes(out.getvalue())
    rehash(directory, PT2)


def pt2_weight_as_pickle(payload: bytes) -> Callable[[str, bytes], bytes | None]:
    """Mark the first weight as pickled (`use_pickle`) and put `payload` in its place."""
    state = {}

    def change(relative: str, data: bytes) -> bytes:
        if relative == "data/weights/model_weights_config.json":
            config = json.loads(data)
            first = next(iter(config["config"].values()))
            first["use_pickle"] = True
            state["file"] = first["path_name"]
            return json.dumps(config).encode()
        if relative == "data/weights/weight_0":
            return payload
        return data
    return change


def onnx_to_external_data(directory: Path, location: str = f"{ONNX}.data") -> str:
    """Move the ONNX weights to an external file next to the model and rehash the model; returns its SHA-256."""
    import onnx
    model = onnx.load(str(directory / ONNX))
    onnx.save_model(model, str(directory / ONNX), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=location, size_threshold=0)
    rehash(directory, ONNX)
    return hashlib.sha256((directory / location).read_bytes()).hexdigest()


def write_yaml_text(directory: Path, text: str) -> None:
    bundle_yaml(directory).write_text(text)


def insert_under(directory: Path, anchor: str, lines: str) -> None:
    """Insert raw YAML `lines` right after the first line that equals `anchor` (for what safe_dump cannot write)."""
    path = bundle_yaml(directory)
    text = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(text) if line.rstrip("\n") == anchor)
    text.insert(index + 1, lines)
    path.write_text("".join(text))


def jit_model_failing_every_run(directory: Path) -> None:
    """Replace the TorchScript model with one that loads but raises on every call (same inputs), and rehash."""
    import torch
    from failing_policy import FailingPolicy
    torch.jit.script(FailingPolicy()).save(str(directory / JIT))
    rehash(directory, JIT)


def onnx_second_target_output(directory: Path, name: str) -> None:
    """Add a second joint-position target output `name` (a copy of `joint_pos`) to the ONNX model and the YAML."""
    import copy as _copy

    import onnx
    from onnx import helper
    model = onnx.load(str(directory / ONNX))
    graph = model.graph
    source = next(o for o in graph.output if o.name == "joint_pos")
    graph.node.append(helper.make_node("Identity", ["joint_pos"], [name]))
    extra = _copy.deepcopy(source)
    extra.name = name
    graph.output.insert(list(graph.output).index(source) + 1, extra)
    onnx.save(model, str(directory / ONNX))
    rehash(directory, ONNX)

    def edit(data: dict) -> None:
        outputs = only_node(data)["outputs"]
        index = next(i for i, p in enumerate(outputs) if p["name"] == "joint_pos")
        twin = _copy.deepcopy(outputs[index])
        twin["name"] = name
        outputs.insert(index + 1, twin)
        node_outputs = data["pipeline"]["outputs"][NODE]
        node_outputs.insert(node_outputs.index("joint_pos") + 1, name)
    edit_yaml(directory, edit)
