"""Options shared by several commands (backend choice)."""

from __future__ import annotations

import argparse

from leapp_ros.engine import BackendOptions


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", default="auto",
                        help="auto (each node on its natural CPU runtime), onnxruntime, torch, or a GPU backend")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")


def backend_options(args: argparse.Namespace) -> BackendOptions:
    return BackendOptions(backend=args.backend, device=args.device, intra_op_threads=args.threads)
