"""ONNX Runtime on the GPU: CUDA (or TensorRT) execution provider, I/O bound to static device buffers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leapp_ros.bundle import ModelNode
from leapp_ros.engine.backends.base import BackendOptions
from leapp_ros.engine.backends.device_backend import DeviceBackend
from leapp_ros.engine.backends.model_source import model_bytes
from leapp_ros.engine.backends.onnxruntime_backend import check_onnx_signature, import_onnxruntime, session_options
from leapp_ros.engine.backends.parity import require_parity
from leapp_ros.errors import EngineError
from leapp_ros.text import exception_summary


def preload_cuda_libraries(ort: Any) -> None:
    """Let onnxruntime-gpu find the CUDA/cuDNN libraries of pip's nvidia-* wheels (what torch uses)."""
    preload = getattr(ort, "preload_dlls", None)  # onnxruntime >= 1.21
    if preload is not None:
        try:
            preload(cuda=True, cudnn=True, msvc=False)
        except Exception:  # noqa: BLE001 - a miss here surfaces as a clear provider error below
            pass


RECURRENT_OPS = {"GRU", "LSTM", "RNN"}


def recurrent_ops(node: ModelNode) -> set[str]:
    import onnx
    graph = onnx.load_model_from_string(model_bytes(node)).graph
    return {node.op_type for node in graph.node} & RECURRENT_OPS


class OnnxRuntimeCudaBackend(DeviceBackend):
    """CUDA execution provider with I/O binding; `cuda_graph` turns on ONNX Runtime's own graph replay."""

    name = "onnxruntime-cuda"
    provider = "CUDAExecutionProvider"
    capturable = False  # ORT launches on its own terms; its `enable_cuda_graph` does the capture instead

    def __init__(self, node: ModelNode, options: BackendOptions, stream: Any = None) -> None:
        # extra["ort_user_stream"]=False lets ORT use its own stream (we then sync before and ORT syncs after).
        self.user_stream = bool(options.extra.get("ort_user_stream", True))
        if node.backend != "onnx":
            raise EngineError(f"node '{node.name}': backend '{self.name}' runs onnx models, not '{node.backend}'")
        found = recurrent_ops(node)
        if found and not options.extra.get("allow_recurrent_ops", False):
            # Seen on onnxruntime-gpu 1.31.1 / H100: with I/O binding the process aborts in cudaFreeHost (CUDA 800)
            # on GRU models, killing the robot process; refuse until that is understood.
            raise EngineError(f"node '{node.name}': backend '{self.name}' refuses models with {sorted(found)}: "
                              "ONNX Runtime CUDA aborted the process on them in our tests (cudaFreeHost, CUDA error "
                              "800); use torch-cuda with the jit/pt2 export, or set extra allow_recurrent_ops")
        super().__init__(node, options, stream)
        ort = import_onnxruntime()
        self._ort = ort
        preload_cuda_libraries(ort)
        if self.provider not in ort.get_available_providers():
            raise EngineError(f"backend '{self.name}' needs ONNX Runtime's {self.provider}, which this install "
                              f"lacks (available: {ort.get_available_providers()}); pip install onnxruntime-gpu "
                              "(built for the CUDA major version of the driver)")
        try:
            session = ort.InferenceSession(model_bytes(node), sess_options=session_options(options),
                                           providers=self.providers())
        except Exception as exc:  # noqa: BLE001
            raise EngineError(f"node '{node.name}': ONNX Runtime ({self.provider}) cannot load "
                              f"'{node.model_path.name}': {exception_summary(exc)}") from None
        # ORT silently falls back to the CPU when the CUDA libraries do not load: refuse that here.
        if session.get_providers()[0] != self.provider:
            raise EngineError(f"node '{node.name}': ONNX Runtime did not enable {self.provider} (got "
                              f"{session.get_providers()}); check that the CUDA and cuDNN libraries load")
        check_onnx_signature(node, [(i.name, i.type, i.shape) for i in session.get_inputs()],
                             [(o.name, o.type, o.shape) for o in session.get_outputs()])
        self._session = session
        self._binding = session.io_binding()
        index = self.device.index or 0
        for name, buf in self.inputs.items():
            self._binding.bind_input(name, "cuda", index, buf.port.dtype.type, list(buf.port.shape),
                                     buf.device.data_ptr())
        for name, buf in self.outputs.items():
            self._binding.bind_output(name, "cuda", index, buf.port.dtype.type, list(buf.port.shape),
                                      buf.device.data_ptr())
        self._run_options = ort.RunOptions()
        if self.user_stream:
            # ORT computes on our stream (user_compute_stream), so stream order is enough; skip its extra sync.
            self._run_options.add_run_config_entry("disable_synchronize_execution_providers", "1")
        self.finish_setup()
        self.parity = require_parity(self, node, options)

    def provider_options(self) -> dict[str, str]:
        options = {"device_id": str(self.device.index or 0),
                   "use_tf32": "0",  # FP32 means FP32: TF32 matmuls miss the 1e-4 parity tolerance on wide layers
                   "enable_cuda_graph": "1" if self.cuda_graph else "0"}
        if self.user_stream:
            options["user_compute_stream"] = str(self.stream.cuda_stream)
        return options

    def providers(self) -> list[Any]:
        return [(self.provider, self.provider_options()), "CPUExecutionProvider"]

    def launch(self) -> None:
        if not self.user_stream:
            self.stream.synchronize()  # our H2D copies must land before ORT's own stream reads the inputs
        self._session.run_with_iobinding(self._binding, self._run_options)

    def graph_mode(self) -> str:
        return "ort-cuda-graph" if self.cuda_graph else "eager"

    def library(self) -> str:
        return f"onnxruntime {self._ort.__version__} ({self.provider})"

    def close(self) -> None:
        super().close()
        self._binding = None
        self._session = None


class OnnxRuntimeTensorRTBackend(OnnxRuntimeCudaBackend):
    """TensorRT execution provider (needs the TensorRT libraries); engines cached in `engine_cache_dir`."""

    name = "onnxruntime-tensorrt"
    provider = "TensorrtExecutionProvider"

    def provider_options(self) -> dict[str, str]:
        extra = self.options.extra
        cache = Path(str(extra.get("engine_cache_dir", Path.home() / ".cache" / "leapp_ros" / "ort_trt")))
        cache.mkdir(parents=True, exist_ok=True)
        return {"device_id": str(self.device.index or 0), "user_compute_stream": str(self.stream.cuda_stream),
                "trt_fp16_enable": "True" if extra.get("precision") == "fp16" else "False",
                "trt_engine_cache_enable": "True", "trt_engine_cache_path": str(cache),
                "trt_cuda_graph_enable": "True" if self.cuda_graph else "False"}

    def providers(self) -> list[Any]:
        cuda = {"device_id": str(self.device.index or 0), "user_compute_stream": str(self.stream.cuda_stream),
                "use_tf32": "0"}
        return [(self.provider, self.provider_options()), ("CUDAExecutionProvider", cuda), "CPUExecutionProvider"]
