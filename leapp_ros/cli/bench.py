"""`leapp-ros bench BUNDLE.yaml`: a schema'd performance bundle (engine latency beside raw runtimes, and more)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from leapp_ros.bench.compare import backend_runtimes, p50_ratios
from leapp_ros.bench.latency import time_runtimes
from leapp_ros.bench.process import ProcessMeter
from leapp_ros.bench.report import bundle_descriptor, new_report, write_report
from leapp_ros.bench.runtimes import (
    Runtime,
    engine_runtime,
    inference_manager_runtime,
    random_inputs,
    raw_onnxruntime_runtimes,
)
from leapp_ros.bench.schema import schema_errors
from leapp_ros.bundle import Bundle, load_bundle
from leapp_ros.cli.common import add_backend_arguments, backend_options
from leapp_ros.engine import BackendOptions
from leapp_ros.errors import LeappRosError

ROUNDS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="bundle YAML (or its directory)")
    parser.add_argument("--ticks", type=int, default=5000, help="timed ticks per runtime (default 5000)")
    parser.add_argument("--warmup", type=int, default=500, help="untimed ticks first (default 500)")
    parser.add_argument("--no-reference", action="store_true",
                        help="time only leapp_ros (skip raw onnxruntime and leapp.InferenceManager)")
    parser.add_argument("--compare", action="store_true",
                        help="also time every other registered backend that can run the bundle (GPU ones on "
                             "'cuda'; those that cannot run here are listed with the reason), and print ratios")
    parser.add_argument("--plot", metavar="PNG", help="write a latency histogram of every timed runtime")
    parser.add_argument("--paced", action="store_true",
                        help="also run the engine alone on the deploy node's deadline timer at --rate for "
                             "--seconds: achieved rate, missed deadlines, CPU share, memory")
    parser.add_argument("--e2e", action="store_true",
                        help="also measure state message in -> target message out through the transport")
    parser.add_argument("--rate", type=float, help="rate for --paced/--e2e in Hz (default: the bundle's, else 50)")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of --paced/--e2e (default 5)")
    parser.add_argument("--transport", default="dds", help="transport for --e2e and --sim (default dds)")
    parser.add_argument("--sim", action="store_true",
                        help="also roll the policy out in the MuJoCo demo scene (the demo's bundle only) over "
                             "--episodes reach windows: task metric, success rate")
    parser.add_argument("--episodes", type=int, default=5, help="episodes (reach windows) for --sim (default 5)")
    parser.add_argument("--node", action="store_true",
                        help="also run the real deploy node (in this process, a stand-in robot over loopback DDS) "
                             "at each of --rates for --seconds: node overhead (tick minus engine) p50/p99, "
                             "per-stage times, late ticks, safety transitions, machine load")
    parser.add_argument("--rates", default="200,500,1000", help="rates for --node in Hz (default 200,500,1000)")
    parser.add_argument("--node-mode", choices=("timer", "event"), default="timer",
                        help="--node ticks on its timer (default) or on every joint state")
    parser.add_argument("--node-param", action="append", default=[], metavar="NAME:=VALUE",
                        help="a deploy-node parameter for --node (repeatable), e.g. realtime.priority:=80")
    parser.add_argument("--robot-priority", type=int, default=0, metavar="N",
                        help="--node: run the stand-in robot under SCHED_FIFO priority N (1-99), as a robot's driver "
                             "runs; needs root or CAP_SYS_NICE (default 0: normal scheduling)")
    parser.add_argument("--floor", type=float, default=0.0, metavar="SECONDS",
                        help="--node: before each rate, time the same deadline loop with an empty tick for SECONDS "
                             "(the late ticks this machine gives any Python thread at that rate)")
    parser.add_argument("--note", help="free text stored in the JSON (e.g. what else ran on the machine)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random input frame (default 0)")
    parser.add_argument("--json", dest="json_out", metavar="OUT",
                        help="write the JSON report here (default out/bench/<bundle>-<UTC time>.json)")
    add_backend_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.ticks < 1 or args.warmup < 0:
        raise LeappRosError("--ticks must be >= 1 and --warmup >= 0")
    if args.seconds <= 0 or (args.rate is not None and args.rate <= 0) or args.episodes < 1:
        raise LeappRosError("--rate and --seconds must be > 0 and --episodes >= 1")
    if not 0 <= args.robot_priority <= 99 or args.floor < 0:
        raise LeappRosError("--robot-priority must be 0-99 and --floor >= 0")
    if args.e2e or args.node:
        from leapp_ros.bench.e2e import require_e2e
        require_e2e(args.transport)
    try:
        rates = [float(r) for r in str(args.rates).split(",") if r.strip()]
    except ValueError:
        raise LeappRosError(f"--rates must be comma-separated numbers, got {args.rates!r}") from None
    if not rates or min(rates) <= 0:
        raise LeappRosError(f"--rates must be positive, got {args.rates!r}")
    began = time.perf_counter()
    bundle = load_bundle(args.bundle)
    if args.sim:
        from leapp_ros.bench.sim_rollout import require_sim
        require_sim(bundle)
    options = backend_options(args)
    rate = args.rate or bundle.rate_hz or 50.0
    report = new_report(sys.argv, {"ticks": args.ticks, "warmup": args.warmup, "rounds": ROUNDS,
                                   "seed": args.seed, "compare": bool(args.compare)})
    report.update(bundle=bundle_descriptor(bundle),
                  session_options={"backend": options.backend, "device": options.device,
                                   "intra_op_threads": options.intra_op_threads,
                                   "inter_op_threads": 1, "graph_optimization": options.graph_optimization})
    samples: dict[str, Any] = {}
    report.update(time_side_by_side(bundle, options, args, samples))
    if args.paced:
        from leapp_ros.bench.paced import run_paced
        from leapp_ros.engine.autoselect import create_engine
        engine, _ = create_engine(bundle, options)
        with engine:
            frame = random_inputs(bundle, args.seed)
            report["paced"] = run_paced(lambda: engine.run(frame), rate, args.seconds)
    if args.e2e:
        from leapp_ros.bench.e2e import run_e2e
        report["e2e"] = run_e2e(bundle, options, rate, args.seconds, args.transport)
    if args.node:
        from leapp_ros.bench.node_overhead import run_node_overhead
        from leapp_ros.node.parameters import parse_assignment
        node_params = dict(parse_assignment(text) for text in args.node_param)
        report["node"] = run_node_overhead(bundle, options, rates, args.seconds, args.node_mode, node_params,
                                           robot_priority=args.robot_priority, floor_seconds=args.floor)
    if args.note:
        report["run"]["note"] = args.note
    if args.sim:
        from leapp_ros.bench.sim_rollout import run_sim
        report["sim"] = run_sim(bundle, options, args.episodes, args.seed, args.transport)
    if args.plot:
        from leapp_ros.bench.plot import write_histogram
        write_histogram(samples, args.plot, f"{bundle.name}: {args.ticks} ticks per runtime, "
                                            f"{report['hardware']['cpu_model']}")
        report["plot"] = str(args.plot)
    report["run"]["duration_s"] = round(time.perf_counter() - began, 2)
    errors = schema_errors(report)
    json_out = args.json_out or default_json_path(bundle)
    write_report(report, json_out)  # written even when it breaks the schema: the figures are not lost
    if errors:  # our own output must follow our own schema; say where it does not (bench-diff refuses it)
        raise LeappRosError(f"bench wrote {json_out}, which breaks leapp_ros/bench/schema.json: " + "; ".join(errors))
    print(format_results(report), flush=True)
    print(f"wrote {json_out}" + (f" and {args.plot}" if args.plot else ""), file=sys.stderr)
    return 0


def default_json_path(bundle: Bundle) -> Path:
    """out/bench/<bundle>-<UTC time>.json under the current directory (out/ is git-ignored in the repository)."""
    return Path("out") / "bench" / f"{bundle.name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"


def time_side_by_side(bundle: Bundle, options: BackendOptions, args: argparse.Namespace,
                      samples: dict[str, Any]) -> dict[str, Any]:
    """Build every runtime asked for, time them interleaved; results, ratios, backends, process, unavailable."""
    frame = random_inputs(bundle, args.seed)
    runtimes: list[Runtime] = []
    unavailable: list[dict[str, Any]] = []
    try:
        runtimes.append(engine_runtime(bundle, options, frame))
        if args.compare:
            built, unavailable = backend_runtimes(bundle, options, frame)
            runtimes += built
        if not args.no_reference:
            runtimes += raw_onnxruntime_runtimes(bundle, options, frame)
            try:
                manager = inference_manager_runtime(bundle, frame)
            except Exception as exc:  # noqa: BLE001 - leapp refusing a bundle is a finding, not a crash of ours
                manager = None
                unavailable.append({"label": "leapp.InferenceManager", "backend": "leapp", "device": "cpu",
                                    "reason": f"{type(exc).__name__}: {exc}".splitlines()[0]})
            if manager is not None:
                runtimes.append(manager)
        meter = ProcessMeter(role="bench (timed ticks, every runtime)").start()
        results = time_runtimes(runtimes, args.ticks, args.warmup, ROUNDS, samples_out=samples)
        process = meter.stop()
    finally:
        for runtime in runtimes:
            runtime.close()
    section = {"backends": {r.label: r.describe for r in runtimes if r.describe is not None},
               "results": results, "ratios": p50_ratios(results, compare=args.compare), "process": process}
    if args.compare or unavailable:
        section["unavailable"] = unavailable
    return section


def format_results(report: dict) -> str:
    results = report["results"]
    raw = next((r["p50_us"] for r in results if r.get("label", r["runtime"]) == "onnxruntime"), None)
    lines = [f"{report['bundle']['name']}: {results[0]['ticks']} ticks per runtime, "
             f"{report['hardware']['cpu_model']} (load {report['hardware'].get('load_average')})",
             f"{'runtime':<32}{'backend':<22}{'p50 us':>9}{'p90 us':>9}{'p99 us':>9}{'max us':>10}"
             f"{'x raw ort':>11}"]
    for r in results:
        ratio = f"{r['p50_us'] / raw:>11.2f}" if raw else f"{'-':>11}"
        lines.append(f"{r.get('label', r['runtime']):<32}{r['backend']:<22}{r['p50_us']:>9.1f}{r['p90_us']:>9.1f}"
                     f"{r['p99_us']:>9.1f}{r['max_us']:>10.1f}{ratio}")
    lines.extend(f"  unavailable {u['label']} ({u['device']}): {u['reason']}" for u in report.get("unavailable", []))
    lines.extend(f"{name}: {value:.3f}" for name, value in report["ratios"].items())
    process = report.get("process")
    if process:
        lines.append(f"bench process: CPU {process['cpu_share']:.2f} of a core while timing, "
                     f"RSS {process['rss_bytes'] / 2**20:.0f} MiB (peak {_mib(process['peak_rss_bytes'])})")
    paced = report.get("paced")
    if paced:
        lines.append(f"paced at {paced['rate_hz']:g} Hz for {paced['seconds']:.1f} s: {paced['achieved_hz']:.1f} Hz "
                     f"achieved, {paced['missed_deadlines']} missed deadlines, tick p50 {paced['tick']['p50_us']:.1f} "
                     f"us p99 {paced['tick']['p99_us']:.1f} us, CPU {paced['process']['cpu_share']:.3f} of a core, "
                     f"RSS {paced['process']['rss_bytes'] / 2**20:.0f} MiB")
    e2e = report.get("e2e")
    if e2e:
        latency = e2e["latency"]
        lines.append(f"end to end ({e2e['transport']}, node ticks on joint states) at {e2e['rate_hz']:g} Hz for "
                     f"{e2e['seconds']:.1f} s: {e2e['matched']}/{e2e['states_sent']} answered, "
                     f"{e2e['achieved_hz']:.1f} Hz, {e2e['missed_deadlines']} missed deadlines; state in -> target out "
                     f"p50 {latency.get('p50_us', 0) / 1e3:.2f} ms p90 {latency.get('p90_us', 0) / 1e3:.2f} ms "
                     f"p99 {latency.get('p99_us', 0) / 1e3:.2f} ms max {latency.get('max_us', 0) / 1e3:.2f} ms; "
                     f"node CPU {e2e['node_process']['cpu_share']:.3f} of a core, "
                     f"RSS {e2e['node_process']['rss_bytes'] / 2**20:.0f} MiB")
    if report.get("node"):
        from leapp_ros.bench.node_overhead import format_node
        lines.extend(format_node(report["node"]))
    sim = report.get("sim")
    if sim:
        metric = sim.get("task_metric", {})
        lines.append(f"sim: {sim['episodes_completed']}/{sim['episodes_requested']} episodes completed, "
                     f"success rate {sim['success_rate']} ({sim.get('success_criterion')}), "
                     f"{metric.get('name')} mean {metric.get('mean')}, "
                     f"episode length {sim['episode_length'].get('mean')}")
    return "\n".join(lines)


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.0f} MiB"
