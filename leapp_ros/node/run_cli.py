"""`leapp-ros run BUNDLE.yaml`: the deploy node without ROS tooling (DDS or rclpy transport), self-activating."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from typing import Any

from leapp_ros.cli.errors import one_line
from leapp_ros.errors import LeappRosError
from leapp_ros.node import parameters as P

LOG = logging.getLogger("leapp_ros.node")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="bundle YAML (or its directory)")
    parser.add_argument("--transport", choices=("auto", "dds", "rclpy"), default="auto",
                        help="auto: rclpy when it imports, else Cyclone DDS (default: auto)")
    parser.add_argument("--params-file", help="ROS 2 parameter file (leapp_deploy: or /**: ros__parameters)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME:=VALUE",
                        help="set one parameter (repeatable), e.g. --param command_timeout_s:=0.3")
    parser.add_argument("--rate", type=float, help="policy rate in Hz (needed when the bundle states none)")
    parser.add_argument("--backend", help="inference backend (parameter 'backend')")
    parser.add_argument("--no-activate", action="store_true",
                        help="configure only; activate later with the ~/transition topic ('activate')")
    parser.add_argument("--node-name", default=P.NODE_NAME)
    parser.add_argument("--namespace", default="/")
    parser.add_argument("--use-sim-time", action="store_true")
    parser.add_argument("--discovery", choices=("loopback", "system"), default="loopback",
                        help="DDS only: 'loopback' (default) finds peers on this host only (127.0.0.1); 'system' "
                             "uses CYCLONEDDS_URI or Cyclone's defaults, to reach peers on other hosts")
    parser.add_argument("--activate-timeout", type=float, default=30.0,
                        help="seconds to wait for every required input before giving up (default 30)")
    parser.add_argument("--duration", type=float, default=0.0, help="run this many seconds, then shut down")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))


def collect_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.params_file:
        params.update(P.load_params_file(args.params_file, args.node_name))
    for text in args.param:
        name, value = P.parse_assignment(text)
        params[name] = value
    params["bundle"] = args.bundle
    params.setdefault("enable_on_activate", True)  # `leapp-ros run` enables the safety machine (RAMP_IN) itself
    if args.rate:
        params["rate_hz"] = float(args.rate)
    if args.backend:
        params["backend"] = args.backend
    return params


def run(args: argparse.Namespace) -> int:
    """Configure, activate (unless --no-activate) and run until SIGINT/SIGTERM or --duration."""
    logging.basicConfig(level=args.log_level.upper(), format="[%(levelname)s] [%(name)s] %(message)s")
    from leapp_ros.node.deploy import DeployNode
    from leapp_ros.transport import make_transport

    transport = None
    node = None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        params = collect_parameters(args)
        kwargs = {"discovery": args.discovery} if args.transport != "rclpy" else {}
        if args.transport == "auto":
            from leapp_ros.transport.factory import rclpy_available
            kwargs = {} if rclpy_available() else kwargs
        transport = make_transport(args.transport, args.node_name, args.namespace, use_sim_time=args.use_sim_time,
                                   **kwargs)
        from leapp_ros.transport.ros_logging import bridge_transport
        bridge_transport(transport, args.log_level)  # rclpy: ROS logging (/rosout) for every product logger
        node = DeployNode(transport, params)
        node.configure()
        if not args.no_activate:
            began = time.monotonic()
            while True:
                try:
                    node.activate()
                    break
                except LeappRosError as exc:
                    waited = time.monotonic() - began
                    if stop.is_set():  # Ctrl-C while waiting for the inputs: a normal way to stop, not an error
                        print(f"leapp-ros run: interrupted before activation after {waited:.1f} s ({exc})",
                              file=sys.stderr)
                        return 0
                    if waited > args.activate_timeout:
                        raise LeappRosError(f"{exc} (waited {waited:.0f} s)") from None
                    time.sleep(0.05)
        started = time.monotonic()
        while not stop.wait(0.1):
            if args.duration and time.monotonic() - started >= args.duration:
                break
        return 0
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - the node's command-line boundary: one line, exit 2
        if not isinstance(exc, LeappRosError):
            LOG.debug("configure/run failed", exc_info=True)
        print(f"leapp-ros run: error: {one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        if node is not None:
            node.shutdown()
        if transport is not None:
            transport.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leapp-ros run", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
