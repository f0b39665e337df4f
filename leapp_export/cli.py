"""``leapp-export``: command-line front end of the offline exporter (exit 2 + one line for invalid input)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from leapp_export.methods import EXPORT_METHODS
from leapp_ros.errors import LeappRosError


def _add_common(p: argparse.ArgumentParser, checkpoint_help: str) -> None:
    """The Isaac Lab export flags plus the offline ones every library shares."""
    p.add_argument("--task", required=True, help="gym task id; names the LEAPP node (text after the last ':')")
    p.add_argument("--checkpoint", help=checkpoint_help)
    p.add_argument("--env_yaml", help="env config dump (default: <run dir>/params/env.yaml)")
    p.add_argument("--agent_yaml", help="agent config dump (default: <run dir>/params/agent.yaml)")
    p.add_argument("--joint_names", help="articulation joint order: a file (one name per line), a comma list, "
                                         "or 'urdf' (take the URDF's movable joints in document order)")
    p.add_argument("--urdf", help="URDF whose movable joints must equal --joint_names (cross-check)")
    p.add_argument("--gains", default="cfg", help="kp/kd outputs: 'cfg' (actuator cfg in env.yaml; refuses when "
                                                  "it defers to USD), 'zero', or a YAML/JSON file")
    p.add_argument("--export_task_name", help="graph name (directory, YAML, PNG); default: the task name")
    p.add_argument("--export_method", default="onnx-dynamo", choices=EXPORT_METHODS)
    p.add_argument("--export_save_path", help="output root (default: as Isaac Lab, next to the checkpoint's run)")
    p.add_argument("--validation_steps", type=int, default=5, help="captured and validated steps; 0 disables")
    p.add_argument("--disable_graph_visualization", action="store_true", help="do not write the graph PNG")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic robot states used for capture")


def _add_rsl_rl(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rsl-rl", help="export an RSL-RL checkpoint of an Isaac Lab run, offline (no simulator)",
                       description="Rebuild the observation/action pipeline from the run's params/env.yaml, load the "
                                   "RSL-RL actor and trace it with leapp into a bundle identical in contract to "
                                   "Isaac Lab's own exporter.")
    _add_common(p, "checkpoint file, run directory or experiment directory")
    p.add_argument("--load_run", help="regex of the run directory to pick (latest match; default '.*')")
    p.add_argument("--load_checkpoint", help="regex of the checkpoint file to pick (latest; default 'model_.*.pt')")
    p.add_argument("--log_root", help="experiment directory to search when --checkpoint is not given")


def _add_libraries(sub: argparse._SubParsersAction) -> None:
    what = "Rebuild the observation/action pipeline from the run's params/env.yaml, load the actor with {lib}'s own " \
           "inference semantics and trace it with leapp into a bundle with Isaac Lab's contract."
    p = sub.add_parser("skrl", help="export a skrl agent checkpoint of an Isaac Lab run, offline",
                       description=what.format(lib="skrl") + " Actions: the policy's mean_actions.")
    _add_common(p, "agent checkpoint (.pt), run directory (checkpoints/ inside) or experiment directory")
    p.add_argument("--load_checkpoint",
                   help="regex of the checkpoint file (default '.*\\.pt', the last in Isaac Lab's ordering)")
    p = sub.add_parser("sb3", help="export a Stable-Baselines3 PPO model.zip (+ VecNormalize) of an Isaac Lab run",
                       description=what.format(lib="Stable-Baselines3") + " VecNormalize statistics are read from "
                       "model_vecnormalize*.pkl next to the model. RecurrentPPO is refused (Isaac Lab 3.0 bug).")
    _add_common(p, "model .zip or run directory (model.zip preferred, else the latest model_*.zip)")
    p.add_argument("--load_checkpoint", help="regex of the checkpoint file (default 'model_.*\\.zip')")
    p = sub.add_parser("rl-games", help="export an rl_games continuous A2C checkpoint of an Isaac Lab run",
                       description=what.format(lib="rl_games") + " Deterministic get_action of the player.")
    _add_common(p, "checkpoint .pth, run directory (nn/ inside) or experiment directory")
    p.add_argument("--load_checkpoint", help="regex of the checkpoint file (default: the best '<name>.pth')")
    p.add_argument("--use_last_checkpoint", action="store_true", help="as Isaac Lab: take the last saved "
                                                                      "checkpoint instead of the best")
    p = sub.add_parser("torchrl", help="export a TorchRL TensorDictModule / ProbabilisticActor actor",
                       description=what.format(lib="TorchRL") + " The file is a whole module (torch.save(actor)) "
                       "or a state dict with --actor_factory; see docs/export.md.")
    _add_common(p, "actor file (.pt): a pickled TensorDictModuleBase or its state dict")
    p.add_argument("--actor_factory", help="module:function(obs_dims, num_actions) -> actor, for state dicts")
    p.add_argument("--action_key", default="action", help="out key holding the action (default 'action')")
    p.add_argument("--obs_groups", help="comma list of observation groups the actor reads (state dicts; "
                                        "default: the module's in_keys, else 'policy')")


def _add_trt(sub: argparse._SubParsersAction) -> bool:
    """``trt BUNDLE.yaml``: delegate to leapp_ros.engine.build_engines when that module exists."""
    import importlib.util

    if importlib.util.find_spec("leapp_ros.engine.build_engines") is None:
        return False
    try:
        from leapp_ros.engine import build_engines
    except ImportError:  # a broken optional module must not take the exporter down
        return False

    p = sub.add_parser("trt", help="pre-build the TensorRT engine cache of a bundle (run on the robot)")
    build_engines.add_arguments(p)
    p.set_defaults(_trt_run=build_engines.run)
    return True


def _add_isaaclab(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("isaaclab", help="run Isaac Lab's own exporter (needs Isaac Lab), then validate the bundle",
                       description="Hands every argument after 'isaaclab' to 'isaaclab leapp export', then writes "
                                   "leapp_export's validation report next to the bundle it made.")
    p.add_argument("--bundle", help="bundle directory or YAML Isaac Lab will write (to validate afterwards)")
    p.add_argument("isaaclab_args", nargs=argparse.REMAINDER, help="arguments for 'isaaclab leapp export'")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leapp-export", description="Export Isaac Lab policies to LEAPP bundles.")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks and everything torch, leapp and the RL libraries print")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_rsl_rl(sub)
    _add_libraries(sub)
    _add_isaaclab(sub)
    _add_trt(sub)
    return parser


_COMMON = ("task", "checkpoint", "env_yaml", "agent_yaml", "joint_names", "urdf", "gains", "export_task_name",
           "export_method", "export_save_path", "validation_steps", "disable_graph_visualization", "seed")


def _run_export(args: argparse.Namespace) -> int:
    from leapp_export import rsl_rl, sources
    from leapp_export.progress import Progress, quiet_libraries

    common = {k: getattr(args, k) for k in _COMMON}
    export: Callable[[Callable[[str], None]], Path]  # the library's export with its options bound; takes progress
    if args.command == "rsl-rl":
        export = partial(rsl_rl.export_rsl_rl, rsl_rl.RslRlExportOptions(
            **common, load_run=args.load_run, load_checkpoint=args.load_checkpoint, log_root=args.log_root))
    elif args.command == "skrl":
        export = partial(sources.export_skrl, sources.SkrlExportOptions(**common, load_checkpoint=args.load_checkpoint))
    elif args.command == "sb3":
        export = partial(sources.export_sb3, sources.Sb3ExportOptions(**common, load_checkpoint=args.load_checkpoint))
    elif args.command == "rl-games":
        export = partial(sources.export_rl_games, sources.RlGamesExportOptions(
            **common, load_checkpoint=args.load_checkpoint, use_last_checkpoint=args.use_last_checkpoint))
    else:
        groups = [g.strip() for g in args.obs_groups.split(",") if g.strip()] if args.obs_groups else None
        export = partial(sources.export_torchrl, sources.TorchRlExportOptions(
            **common, actor_factory=args.actor_factory, action_key=args.action_key, obs_groups=groups))
    with quiet_libraries(enabled=not args.debug) as terminal:  # --debug shows the libraries' own output
        progress = Progress(total=max(args.validation_steps, 2) + 4, enabled=not args.quiet, stream=terminal)
        completed = False
        try:
            bundle = export(progress.callback())
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
        if args.command == "isaaclab":
            return _run_isaaclab(args)
        if args.command == "trt":
            return int(args._trt_run(args) or 0)
        return _run_export(args)
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
