"""TensorRT backend: build (or load from the cache) an engine per ONNX node, run it on a CUDA stream."""

from __future__ import annotations

from typing import Any

from leapp_ros.bundle import ModelNode
from leapp_ros.engine.backends.base import BackendOptions
from leapp_ros.engine.backends.cuda_buffers import device_summary, torch_dtype
from leapp_ros.engine.backends.device_backend import DeviceBackend
from leapp_ros.engine.backends.engine_cache import CacheMiss, EngineCache, EngineKey, default_cache_dir
from leapp_ros.engine.backends.model_source import model_bytes
from leapp_ros.engine.backends.parity import require_parity
from leapp_ros.engine.backends.trt_plan import EngineTensor, input_shapes, plan_bindings
from leapp_ros.errors import EngineError

DEFAULT_WORKSPACE = 1 << 30


def import_tensorrt() -> Any:
    try:
        import tensorrt
    except ImportError:
        raise EngineError("TensorRT is not installed: on Jetson it comes with JetPack (python3-libnvinfer); on a "
                          "desktop install NVIDIA's tensorrt wheel from pypi.nvidia.com matching your CUDA") from None
    if not hasattr(tensorrt.ICudaEngine, "get_tensor_name"):
        raise EngineError(f"TensorRT {tensorrt.__version__} is too old: the named-tensor API needs 8.5 or newer")
    return tensorrt


def engine_key(trt: Any, torch: Any, node: ModelNode, device: Any, precision: str, workspace: int) -> EngineKey:
    info = device_summary(torch, device)
    return EngineKey(model_sha256=node.sha256.lower(), tensorrt_version=trt.__version__, gpu_name=info["gpu"],
                     compute_capability=info["compute_capability"], precision=precision,
                     shapes=input_shapes(node), workspace_bytes=workspace)


def build_plan(trt: Any, node: ModelNode, precision: str, workspace: int) -> bytes:
    """Parse the ONNX model and build a serialised engine with the bundle's static shapes."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    major = int(trt.__version__.split(".")[0])
    flags = 0 if major >= 10 else 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(model_bytes(node), str(node.model_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineError(f"node '{node.name}': TensorRT cannot parse '{node.model_path.name}': {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
    if precision == "fp16":
        if not builder.platform_has_fast_fp16:
            raise EngineError(f"node '{node.name}': precision fp16 asked but this GPU has no fast FP16")
        config.set_flag(trt.BuilderFlag.FP16)
    else:
        config.clear_flag(trt.BuilderFlag.TF32)  # FP32 means FP32 (TF32 misses the 1e-4 parity tolerance)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise EngineError(f"node '{node.name}': TensorRT failed to build an engine (see the TensorRT log above)")
    return bytes(plan)


def load_or_build(trt: Any, torch: Any, node: ModelNode, device: Any, precision: str, workspace: int,
                  cache: EngineCache | None) -> tuple[bytes, str]:
    """The engine plan and how it was obtained ("cache" or "built: <why the cache missed>")."""
    key = engine_key(trt, torch, node, device, precision, workspace)
    found = cache.lookup(node.name, key) if cache is not None else CacheMiss("engine cache disabled")
    if isinstance(found, CacheMiss):
        plan = build_plan(trt, node, precision, workspace)
        if cache is not None:
            cache.store(node.name, key, plan)
        return plan, f"built ({found.reason})"
    assert cache is not None  # a cache hit needs a cache
    return found, f"cache {cache.paths(node.name, key)[0]}"


def engine_tensors(trt: Any, engine: Any) -> list[EngineTensor]:
    tensors = []
    for i in range(engine.num_io_tensors):
        name = engine.get_tensor_name(i)
        tensors.append(EngineTensor(name=name, is_input=engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT,
                                    shape=tuple(engine.get_tensor_shape(name)),
                                    dtype=trt.nptype(engine.get_tensor_dtype(name))))
    return tensors


class TensorRTBackend(DeviceBackend):
    """A TensorRT engine bound to static device buffers; `extra`: precision, workspace_bytes, engine_cache_dir."""

    name = "tensorrt"

    def __init__(self, node: ModelNode, options: BackendOptions, stream: Any = None) -> None:
        if node.backend != "onnx":
            raise EngineError(f"node '{node.name}': backend 'tensorrt' builds from onnx models, not '{node.backend}'")
        trt = import_tensorrt()
        super().__init__(node, options, stream)
        torch = self._torch
        extra = options.extra
        self.precision = str(extra.get("precision", "fp32"))
        workspace = int(extra.get("workspace_bytes", DEFAULT_WORKSPACE))
        cache_dir = extra.get("engine_cache_dir", default_cache_dir())
        cache = None if cache_dir is None else EngineCache(cache_dir)
        self._trt = trt
        plan, self.source = load_or_build(trt, torch, node, self.device, self.precision, workspace, cache)
        self._runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self._engine = self._runtime.deserialize_cuda_engine(plan)
        if self._engine is None:
            raise EngineError(f"node '{node.name}': TensorRT could not deserialise the engine ({self.source})")
        self._context = self._engine.create_execution_context()
        self.plan = plan_bindings(node, engine_tensors(trt, self._engine))
        # Tensors TensorRT narrowed (int64 -> int32) get a staging buffer of the engine's dtype, cast on device.
        self._cast_in: list[tuple[Any, Any]] = []  # (port buffer, engine-dtype staging buffer)
        self._cast_out: list[tuple[Any, Any]] = []
        for binding in (*self.plan.inputs, *self.plan.outputs):
            port_buf = (self.inputs if binding.is_input else self.outputs)[binding.name].device
            target = port_buf
            if binding.needs_cast:
                target = torch.zeros(binding.shape, dtype=torch_dtype(torch, binding.engine_dtype), device=self.device)
                (self._cast_in if binding.is_input else self._cast_out).append((port_buf, target))
            if not self._context.set_tensor_address(binding.name, target.data_ptr()):
                raise EngineError(f"node '{node.name}': TensorRT refused the address of tensor '{binding.name}'")
        self.finish_setup()  # the first enqueue also does TensorRT's deferred allocations, before any capture
        self.parity = require_parity(self, node, options)

    def launch(self) -> None:
        for port_buf, staged in self._cast_in:
            staged.copy_(port_buf)
        if not self._context.execute_async_v3(self.stream.cuda_stream):
            raise EngineError(f"node '{self.node.name}': TensorRT failed to enqueue the engine")
        for port_buf, staged in self._cast_out:
            port_buf.copy_(staged)

    def library(self) -> str:
        return f"tensorrt {self._trt.__version__}"

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "precision": self.precision, "engine": self.source}

    def close(self) -> None:
        super().close()
        self._context = self._engine = self._runtime = None
