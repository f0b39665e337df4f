"""`leapp-ros bench-diff A.json B.json`: metric deltas and ratios between two bench bundles (B against A)."""

from __future__ import annotations

import argparse
import json
import sys

from leapp_ros.bench.diff import diff, format_diff
from leapp_ros.bench.report import read_report
from leapp_ros.bench.schema import incompatibility
from leapp_ros.errors import LeappRosError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A.json", help="the baseline bench bundle")
    parser.add_argument("b", metavar="B.json", help="the bench bundle compared against A")
    parser.add_argument("--json", dest="json_out", metavar="OUT", help="also write the comparison as JSON")


def run(args: argparse.Namespace) -> int:
    a, b = read_report(args.a), read_report(args.b)
    reason = incompatibility(a, args.a, b, args.b)
    if reason:
        raise LeappRosError(f"cannot compare: {reason}")
    result = diff(a, b)
    print(format_diff(result, args.a, args.b))
    if args.json_out:
        with open(args.json_out, "w") as handle:
            json.dump({"a": args.a, "b": args.b, **result}, handle, indent=1)
            handle.write("\n")
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 0
