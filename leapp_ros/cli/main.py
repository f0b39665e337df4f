"""`leapp-ros`: inspect, replay, bench, run and sim LEAPP bundles from the command line."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from leapp_ros.cli.errors import run_guarded

# subcommand -> (module with add_arguments(parser) and run(args) -> int, help text)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "inspect": ("leapp_ros.cli.inspect", "show a bundle's contract, feedback, rate and binding plan"),
    "replay": ("leapp_ros.cli.replay", "run a bundle over recorded input frames and write every output"),
    "bench": ("leapp_ros.cli.bench", "time the engine against raw runtimes and write JSON"),
    "bench-diff": ("leapp_ros.cli.bench_diff", "compare two bench JSON bundles metric by metric"),
    "run": ("leapp_ros.node.run_cli", "run the deploy node without ROS tooling (DDS or rclpy transport)"),
    "sim": ("leapp_ros.sim.cli", "run the MuJoCo robot bridge"),
    "demo": ("leapp_ros.demo.cli", "run the sim-to-sim demo: MuJoCo robot + deploy node, metrics and a plot"),
    "build-engines": ("leapp_ros.engine.build_engines", "pre-build TensorRT engines for a bundle on this machine"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leapp-ros", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            # A subcommand whose module or optional dependency is missing is listed but explains itself.
            sub = subparsers.add_parser(name, help=f"{help_text} (unavailable: {exc})")
            sub.set_defaults(unavailable=f"'{name}' is unavailable: {exc}")
            continue
        if hasattr(module, "add_arguments"):
            sub = subparsers.add_parser(name, help=help_text, description=help_text)
            sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
        else:  # a module with its own `main(argv)` parses its own arguments
            subparsers.add_parser(name, help=help_text, add_help=False)  # dispatched by main() before parsing
    return parser


# `leapp-ros COMMAND FLAG ...` modes with an argument set of their own: (command, flag) -> module with main(argv)
MODES: dict[tuple[str, str], str] = {
    ("bench", "--soak"): "leapp_ros.bench.soak",  # long soak of the node over DDS (a benchmark, not a test)
}


def _delegated(argv: list[str]) -> tuple[Callable[[list[str]], int], list[str], bool] | None:
    """A subcommand whose module parses its own arguments (`main(argv)`): hand it the rest of the line."""
    debug = bool(argv) and argv[0] == "--debug"
    rest = argv[1:] if debug else argv
    if not rest or rest[0] not in SUBCOMMANDS:
        return None
    for (command, flag), module_name in MODES.items():
        if rest[0] == command and flag in rest[1:]:
            module = importlib.import_module(module_name)
            return module.main, [a for a in rest[1:] if a != flag], debug
    try:
        module = importlib.import_module(SUBCOMMANDS[rest[0]][0])
    except ImportError:
        return None
    return (module.main, rest[1:], debug) if not hasattr(module, "add_arguments") else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    delegated = _delegated(argv)
    if delegated is not None:
        command, rest, debug = delegated
        return run_guarded(lambda: command(rest), debug=debug)
    args = build_parser().parse_args(argv)
    if getattr(args, "unavailable", None):
        print(f"leapp-ros: error: {args.unavailable}", file=sys.stderr)
        return 2
    return run_guarded(lambda: args.handler(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
