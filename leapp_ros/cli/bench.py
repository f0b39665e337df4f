"""`leapp-ros bench BUNDLE.yaml`: engine tick latency side by side with raw onnxruntime and leapp."""

from __future__ import annotations

import argparse
import sys

from leapp_ros.bench.latency import time_runtimes
from leapp_ros.bench.report import bundle_descriptor, new_report, p50_ratios, write_report
from leapp_ros.bench.runtimes import (engine_runtime, inference_manager_runtime, random_inputs,
                                      raw_onnxruntime_runtimes)
from leapp_ros.bundle import load_bundle
from leapp_ros.cli.common import add_backend_arguments, backend_options
from leapp_ros.errors import LeappRosError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="bundle YAML (or its directory)")
    parser.add_argument("--ticks", type=int, default=5000, help="timed ticks per runtime (default 5000)")
    parser.add_argument("--warmup", type=int, default=500, help="untimed ticks first (default 500)")
    parser.add_argument("--no-reference", action="store_true",
                        help="time only leapp_ros (skip raw onnxruntime and leapp.InferenceManager)")
    parser.add_argument("--json", dest="json_out", metavar="OUT", help="write the JSON report here")
    add_backend_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.ticks < 1 or args.warmup < 0:
        raise LeappRosError("--ticks must be >= 1 and --warmup >= 0")
    bundle = load_bundle(args.bundle)
    options = backend_options(args)
    frame = random_inputs(bundle)
    runtimes = [engine_runtime(bundle, options, frame)]
    if not args.no_reference:
        runtimes += raw_onnxruntime_runtimes(bundle, options, frame)
        manager = inference_manager_runtime(bundle, frame)
        if manager is not None:
            runtimes.append(manager)
    try:
        results = time_runtimes(runtimes, args.ticks, args.warmup)
    finally:
        for runtime in runtimes:
            runtime.close()
    report = new_report(sys.argv)
    report.update(bundle=bundle_descriptor(bundle),
                  session_options={"backend": options.backend, "device": options.device,
                                   "intra_op_threads": options.intra_op_threads,
                                   "inter_op_threads": 1, "graph_optimization": options.graph_optimization},
                  results=results, ratios=p50_ratios(results))
    print(format_results(report))
    if args.json_out:
        write_report(report, args.json_out)
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 0


def format_results(report: dict) -> str:
    lines = [f"{report['bundle']['name']}: {report['results'][0]['ticks']} ticks per runtime, "
             f"{report['hardware']['cpu_model']}",
             f"{'runtime':<24}{'backend':<14}{'p50 us':>9}{'p90 us':>9}{'p99 us':>9}{'max us':>10}"]
    for r in report["results"]:
        lines.append(f"{r['runtime']:<24}{r['backend']:<14}{r['p50_us']:>9.1f}{r['p90_us']:>9.1f}"
                     f"{r['p99_us']:>9.1f}{r['max_us']:>10.1f}")
    lines.extend(f"{name}: {value:.3f}" for name, value in report["ratios"].items())
    return "\n".join(lines)
