"""The runtimes `leapp-ros bench` times side by side: our engine per backend, raw onnxruntime, leapp."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from leapp_ros.bundle import Bundle
from leapp_ros.engine import BackendOptions
from leapp_ros.engine.backends.model_source import model_bytes


@dataclass
class Runtime:
    """A named callable that performs one policy tick on prepared inputs.

    `label` is the row's unique name in a report (the runtime name unless several rows share it).
    """

    runtime: str
    backend: str
    tick: Callable[[], object]
    close: Callable[[], None] = lambda: None
    label: str = ""
    describe: list[dict[str, object]] | None = None

    def __post_init__(self) -> None:
        self.label = self.label or self.runtime


def random_inputs(bundle: Bundle, seed: int = 0) -> dict[str, np.ndarray]:
    """One frame of plausible random pipeline inputs (unit quaternions where the port is a rotation)."""
    rng = np.random.default_rng(seed)
    frame = {}
    for port in bundle.inputs:
        if np.issubdtype(port.dtype, np.floating):
            value = rng.standard_normal(port.shape).astype(port.dtype) * 0.1
            names = port.last_axis_names or ()
            if port.shape and port.shape[-1] == 4 and ("qw" in names or "w" in names):
                value = value + np.where(np.array([n in ("qw", "w") for n in names]), 1.0, 0.0).astype(port.dtype)
                value /= np.linalg.norm(value, axis=-1, keepdims=True)
        else:
            value = rng.integers(0, 3, size=port.shape).astype(port.dtype)
        frame[port.key] = np.ascontiguousarray(value)
    return frame


def engine_runtime(bundle: Bundle, options: BackendOptions, frame: dict[str, np.ndarray],
                   label: str = "leapp_ros") -> Runtime:
    """Our engine from the node's engine factory (auto measures the candidates; the device engine on CUDA)."""
    from leapp_ros.engine.autoselect import create_engine

    engine, choice = create_engine(bundle, options)
    describe = [{**d, "choice": choice} for d in engine.describe()]
    backend = ",".join(sorted({str(d["backend"]) for d in describe}))
    return Runtime("leapp_ros", backend, lambda: engine.run(frame), engine.close, label, describe)


def raw_onnxruntime_runtimes(bundle: Bundle, options: BackendOptions,
                             frame: dict[str, np.ndarray]) -> list[Runtime]:
    """Plain `session.run` per ONNX node with the engine's session options and numpy feeds (no I/O binding)."""
    if any(node.backend != "onnx" for node in bundle.nodes) or len(bundle.nodes) != 1:
        return []  # raw comparison is defined for single-node ONNX bundles
    from leapp_ros.engine.backends.onnxruntime_backend import import_onnxruntime, session_options

    ort = import_onnxruntime()
    node = bundle.nodes[0]
    cpu_options = BackendOptions(intra_op_threads=options.intra_op_threads,
                                 graph_optimization=options.graph_optimization)
    session = ort.InferenceSession(model_bytes(node), sess_options=session_options(cpu_options),
                                   providers=["CPUExecutionProvider"])
    feed = {p.name: frame[p.key] if p.key in frame else np.array(bundle.initial_value(p.key))
            for p in node.inputs}
    names = [p.name for p in node.outputs]
    return [Runtime("onnxruntime", "onnxruntime", lambda: session.run(names, feed))]


def inference_manager_runtime(bundle: Bundle, frame: dict[str, np.ndarray]) -> Runtime | None:
    """leapp's reference runtime, when leapp is installed (torch tensors in, as it expects)."""
    try:
        import torch
        from leapp import InferenceManager
    except ImportError:
        return None
    manager = InferenceManager(str(bundle.yaml_path))
    # leapp puts jit/pt2 (and ONNX with ORT CUDA) models on the GPU when there is one: feed each input on the
    # device of the node it goes to, and wait for the GPU inside the timed tick.
    tensors = {key: torch.from_numpy(value.copy()).to(_manager_device(manager, key)) for key, value in frame.items()}
    if any(t.device.type == "cuda" for t in tensors.values()):
        def tick() -> object:
            result = manager.run_policy(tensors)
            torch.cuda.synchronize()
            return result
        return Runtime("leapp.InferenceManager", "leapp", tick)
    return Runtime("leapp.InferenceManager", "leapp", lambda: manager.run_policy(tensors))


def _manager_device(manager: object, key: str) -> str:
    """The device leapp holds `node/input` on (its value buffers), cpu when it does not say."""
    node, _, name = key.partition("/")
    value = getattr(manager, "value_dict", {}).get(node, {}).get(name)
    return str(getattr(value, "device", "cpu"))
