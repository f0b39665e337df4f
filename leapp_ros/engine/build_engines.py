"""`leapp-ros build-engines BUNDLE`: pre-build the TensorRT engine cache on the robot (before deployment)."""

from __future__ import annotations

import argparse

from leapp_ros.bundle import load_bundle
from leapp_ros.engine.backends.engine_cache import PRECISIONS, EngineCache, default_cache_dir
from leapp_ros.errors import EngineError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="bundle directory or YAML")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32")
    parser.add_argument("--cache-dir", default=None, help=f"engine cache (default {default_cache_dir()}, "
                                                          "or $LEAPP_ROS_ENGINE_CACHE)")
    parser.add_argument("--workspace-mib", type=int, default=1024, help="TensorRT builder workspace limit")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--list", action="store_true", help="list the cached engines and exit")


def run(args: argparse.Namespace) -> int:
    cache = EngineCache(args.cache_dir or default_cache_dir())
    if args.list:
        for entry in cache.entries():
            key = entry["key"]
            print(f"{entry['file']}: node {entry.get('node')}, TensorRT {key['tensorrt_version']}, {key['gpu_name']} "
                  f"(sm {key['compute_capability']}), {key['precision']}")
        return 0
    from leapp_ros.engine.backends.cuda_buffers import import_torch_cuda
    from leapp_ros.engine.backends.tensorrt_backend import import_tensorrt, load_or_build

    bundle = load_bundle(args.bundle)
    onnx_nodes = [n for n in bundle.nodes if n.backend == "onnx"]
    if not onnx_nodes:
        raise EngineError(f"bundle '{bundle.name}' has no onnx nodes; TensorRT engines are built from ONNX models")
    trt, torch = import_tensorrt(), import_torch_cuda(args.device)
    for node in onnx_nodes:
        _, source = load_or_build(trt, torch, node, torch.device(args.device), args.precision,
                                  args.workspace_mib << 20, cache)
        print(f"node '{node.name}': {source}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leapp-ros build-engines", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
