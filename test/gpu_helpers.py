"""Availability checks for the GPU tests: each missing piece skips with a printed reason."""

from __future__ import annotations

import pytest


def skip(reason: str) -> None:
    print(f"SKIP: {reason}")
    pytest.skip(reason)


def require_cuda() -> None:
    try:
        import torch
    except ImportError:
        skip("torch is not installed")
    if not torch.cuda.is_available():
        skip(f"no CUDA device (torch {torch.__version__} sees none)")


def require_backend(name: str) -> None:
    """Skip unless backend `name` can run here ("onnxruntime" and "torch" always can on the CPU)."""
    if name in ("onnxruntime", "torch"):
        return
    require_cuda()
    if name.startswith("onnxruntime-"):
        import onnxruntime as ort

        from leapp_ros.engine.backends.onnxruntime_cuda import preload_cuda_libraries
        preload_cuda_libraries(ort)
        provider = {"onnxruntime-cuda": "CUDAExecutionProvider",
                    "onnxruntime-tensorrt": "TensorrtExecutionProvider"}[name]
        if provider not in ort.get_available_providers():
            skip(f"onnxruntime {ort.__version__} lacks {provider} (install onnxruntime-gpu)")
        if provider == "TensorrtExecutionProvider":
            require_nvinfer()
    if name == "tensorrt":
        try:
            import tensorrt  # noqa: F401
        except ImportError:
            skip("the tensorrt Python module is not installed (JetPack or NVIDIA's wheel index); "
                 "the TensorRT cache-key and binding-plan logic is tested without it")


def require_nvinfer() -> None:
    import ctypes
    for soname in ("libnvinfer.so.10", "libnvinfer.so.8"):
        try:
            ctypes.CDLL(soname)
            return
        except OSError:
            continue
    skip("the TensorRT runtime library (libnvinfer) is not installed; ONNX Runtime's TensorRT provider needs it")
