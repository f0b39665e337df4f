"""The error convention of every command: exit 2 and one line on stderr naming the culprit (--debug: traceback)."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

from leapp_ros.errors import LeappRosError
from leapp_ros.text import MESSAGE_LIMIT, clip, exception_summary

EXIT_USAGE = 2


def one_line(exc: BaseException) -> str:
    """The message of `exc` as one bounded line; foreign exceptions also name their type."""
    if isinstance(exc, LeappRosError):
        return clip(str(exc))
    return exception_summary(exc, MESSAGE_LIMIT)


def run_guarded(command: Callable[[], int], debug: bool, prog: str = "leapp-ros") -> int:
    """Run `command`; turn every failure into one line on stderr and exit code 2 (--debug adds the traceback)."""
    try:
        return command()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `leapp-ros inspect ... | head` closed the pipe: not an error of ours
        return 0
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - the command-line boundary: never a traceback
        if debug:
            traceback.print_exc()
        suffix = "" if isinstance(exc, (LeappRosError, OSError, ValueError)) or debug else \
            " (an unexpected error: rerun with --debug for the traceback)"
        print(f"{prog}: error: {one_line(exc)}{suffix}", file=sys.stderr)
        return EXIT_USAGE
