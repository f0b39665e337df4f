"""ONNX Runtime backend: one InferenceSession per node, fed with numpy arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from leapp_ros.bundle import ModelNode
from leapp_ros.engine.backends.base import BackendOptions
from leapp_ros.engine.backends.model_source import model_bytes
from leapp_ros.errors import EngineError
from leapp_ros.text import exception_summary

OPTIMIZATION_LEVELS = ("disable", "basic", "extended", "all")


def import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise EngineError("ONNX Runtime is not installed: pip install onnxruntime "
                          "(or onnxruntime-gpu for CUDA)") from None
    return onnxruntime


def session_options(options: BackendOptions) -> Any:
    """The SessionOptions the engine uses; benchmarks build raw sessions from the same function."""
    ort = import_onnxruntime()
    if options.graph_optimization not in OPTIMIZATION_LEVELS:
        raise EngineError(f"unknown graph_optimization '{options.graph_optimization}' "
                          f"(known: {', '.join(OPTIMIZATION_LEVELS)})")
    level = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
             "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
             "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
             "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[options.graph_optimization]
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    so.intra_op_num_threads = options.intra_op_threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return so


class OnnxRuntimeBackend:
    """Runs an ONNX node on the CPU execution provider (the GPU providers live in their own backend)."""

    name = "onnxruntime"

    def __init__(self, node: ModelNode, options: BackendOptions) -> None:
        if options.device != "cpu":
            raise EngineError(f"backend 'onnxruntime' runs on the CPU; for device '{options.device}' "
                              "choose backend 'onnxruntime-cuda'")
        ort = import_onnxruntime()
        self.node = node
        self._options = options
        try:
            self._session = ort.InferenceSession(model_bytes(node), sess_options=session_options(options),
                                                 providers=["CPUExecutionProvider"])
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - ORT raises its own exception types
            raise EngineError(f"node '{node.name}': ONNX Runtime cannot load '{node.model_path.name}': "
                              f"{exception_summary(exc)}") from None
        check_onnx_signature(node, [(i.name, i.type, i.shape) for i in self._session.get_inputs()],
                             [(o.name, o.type, o.shape) for o in self._session.get_outputs()])
        self._output_names = [p.name for p in node.outputs]

    def run(self, feed: Mapping[str, np.ndarray]) -> Sequence[np.ndarray]:
        outputs: list[np.ndarray] = self._session.run(self._output_names, feed)
        return outputs

    def describe(self) -> dict[str, object]:
        import onnxruntime
        return {"backend": self.name, "library": f"onnxruntime {onnxruntime.__version__}",
                "providers": self._session.get_providers(), "intra_op_threads": self._options.intra_op_threads,
                "graph_optimization": self._options.graph_optimization}

    def close(self) -> None:
        self._session = None


ORT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
             "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int16)": np.int16,
             "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_}


def check_onnx_signature(node: ModelNode, inputs: Sequence[tuple[str, str, Sequence[Any]]],
                         outputs: Sequence[tuple[str, str, Sequence[Any]]]) -> None:
    """The model's I/O must be the YAML's: same names in the same order, same dtypes and static shapes."""
    for direction, declared, actual in (("inputs", node.inputs, inputs), ("outputs", node.outputs, outputs)):
        names = [a[0] for a in actual]
        if names != [p.name for p in declared]:
            raise EngineError(f"node '{node.name}': the ONNX model's {direction} are {names}, the YAML declares "
                              f"{[p.name for p in declared]}")
        for port, (name, type_str, shape) in zip(declared, actual):
            dtype = ORT_TYPES.get(type_str)
            if dtype is None or np.dtype(dtype) != port.dtype:
                raise EngineError(f"node '{node.name}', port '{name}': the ONNX model says {type_str}, "
                                  f"the YAML says {port.dtype}")
            if len(shape) != len(port.shape) or any(isinstance(d, int) and d != p for d, p in zip(shape, port.shape)):
                raise EngineError(f"node '{node.name}', port '{name}': the ONNX model's shape {shape} does not "
                                  f"match the YAML's {list(port.shape)}")
