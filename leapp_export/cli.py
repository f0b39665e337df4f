"""``leapp-export``: command-line front end of the offline exporter (exit 2 + one line for invalid input)."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from leapp_export.methods import EXPORT_METHODS
from leapp_ros.errors import LeappRosError


def _add_rsl_rl(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rsl-rl", help="export an RSL-RL checkpoint of an Isaac Lab run, offline (no simulator)",
                       description="Rebuild the observation/action pipeline from the run's params/env.yaml, load the "
                                   "RSL-RL actor and trace it with leapp into a bundle identical in contract to "
                                   "Isaac Lab's own exporter.")
    p.add_argument("--task", required=True, help="gym task id; names the LEAPP node (text after the last ':')")
    p.add_argument("--checkpoint", help="checkpoint file, run directory or experiment directory")
    p.add_argument("--load_run", help="regex of the run directory to pick (latest match; default '.*')")
    p.add_argument("--load_checkpoint", help="regex of the checkpoint file to pick (latest; default 'model_.*.pt')")
    p.add_argument("--log_root", help="experiment directory to search when --checkpoint is not given")
    p.add_argument("--env_yaml", help="env config dump (default: <run dir>/params/env.yaml)")
    p.add_argument("--agent_yaml", help="agent config dump (default: <run dir>/params/agent.yaml)")
    p.add_argument("--joint_names", help="articulation joint order: a file (one name per line), a comma list, "
                                         "or 'urdf' (take the URDF's movable joints in document order)")
    p.add_argument("--urdf", help="URDF whose movable joints must equal --joint_names (cross-check)")
    p.add_argument("--gains", default="cfg", help="kp/kd outputs: 'cfg' (actuator cfg in env.yaml; refuses when "
                                                  "it defers to USD), 'zero', or a YAML/JSON file")
    p.add_argument("--export_task_name", help="graph name (directory, YAML, PNG); default: the task name")
    p.add_argument("--export_method", default="onnx-dynamo", choices=EXPORT_METHODS)
    p.add_argument("--export_save_path", help="output root (default: the checkpoint's run directory)")
    p.add_argument("--validation_steps", type=int, default=5, help="captured and validated steps; 0 disables")
    p.add_argument("--disable_graph_visualization", action="store_true", help="do not write the graph PNG")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic robot states used for capture")


def _add_isaaclab(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("isaaclab", help="run Isaac Lab's own exporter (needs Isaac Lab), then validate the bundle",
                       description="Hands every argument after 'isaaclab' to 'isaaclab leapp export', then writes "
                                   "leapp_export's validation report next to the bundle it made.")
    p.add_argument("--bundle", help="bundle directory or YAML Isaac Lab will write (to validate afterwards)")
    p.add_argument("isaaclab_args", nargs=argparse.REMAINDER, help="arguments for 'isaaclab leapp export'")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leapp-export", description="Export Isaac Lab policies to LEAPP bundles.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_rsl_rl(sub)
    _add_isaaclab(sub)
    return parser


def _run_rsl_rl(args: argparse.Namespace) -> int:
    from leapp_export.progress import Progress
    from leapp_export.rsl_rl import RslRlExportOptions, export_rsl_rl

    options = RslRlExportOptions(
        task=args.task, checkpoint=args.checkpoint, load_run=args.load_run, load_checkpoint=args.load_checkpoint,
        log_root=args.log_root, env_yaml=args.env_yaml, agent_yaml=args.agent_yaml, joint_names=args.joint_names,
        urdf=args.urdf, gains=args.gains, export_task_name=args.export_task_name, export_method=args.export_method,
        export_save_path=args.export_save_path, validation_steps=args.validation_steps,
        disable_graph_visualization=args.disable_graph_visualization, seed=args.seed)
    progress = Progress(total=max(args.validation_steps, 2) + 4, enabled=not args.quiet)
    completed = False
    try:
        bundle = export_rsl_rl(options, progress.callback())
        completed = True
    finally:
        progress.close(completed)
    print(bundle)
    return 0


def _run_isaaclab(args: argparse.Namespace) -> int:
    from leapp_export.isaaclab_handover import run_isaaclab_export

    return run_isaaclab_export(args.isaaclab_args, args.bundle)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        return _run_rsl_rl(args) if args.command == "rsl-rl" else _run_isaaclab(args)
    except LeappRosError as exc:  # ExportError and the bundle/engine errors of leapp_ros
        if args.debug:
            raise
        print(f"leapp-export: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("leapp-export: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
