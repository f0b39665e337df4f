"""The error convention of every command: exit 2 and one line on stderr naming the culprit (--debug: traceback)."""

from __future__ import annotations

import sys
import traceback
from typing import Callable

from leapp_ros.errors import LeappRosError

EXIT_USAGE = 2


def run_guarded(command: Callable[[], int], debug: bool, prog: str = "leapp-ros") -> int:
    """Run `command`; turn known failures into one line on stderr and exit code 2."""
    try:
        return command()
    except LeappRosError as exc:
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `leapp-ros inspect ... | head` closed the pipe: not an error of ours
        return 0
    except (OSError, ValueError) as exc:  # unreadable files, bad numbers in input files
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
