"""What `leapp-export` shows while it works: one progress line on a terminal, the libraries' chatter kept out.

torch, onnxscript, leapp and the RL libraries print banners, warnings and coloured log lines while a policy is
traced and compiled. `quiet_libraries` sends everything written to the process's stdout and stderr (Python, C++
and warnings alike) to a temporary log for the duration, and hands back a stream to the real terminal for our
own progress line.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import TextIO


@contextlib.contextmanager
def quiet_libraries(enabled: bool = True) -> Iterator[TextIO]:
    """Redirect file descriptors 1 and 2 into a temporary log; yield a stream to the original stderr."""
    if not enabled:
        yield sys.stderr
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[1]), "w", buffering=1)
    with tempfile.TemporaryFile("w+") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()


class Progress:
    """Counts named stages: a tqdm bar (one line, redrawn) on a terminal, nothing but a closing line otherwise."""

    def __init__(self, total: int, enabled: bool = True, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._bar = None
        self._started = time.monotonic()
        self._done = 0
        self.enabled = enabled
        if enabled and self._stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, file=self._stream, unit="stage", dynamic_ncols=True, leave=False,
                             bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]")

    def callback(self) -> Callable[[str], None]:
        def update(message: str) -> None:
            self._done += 1
            if self._bar is not None:
                self._bar.set_description_str(message[:60])
                self._bar.update(1)
        return update

    def close(self, completed: bool) -> None:
        if self._bar is not None:
            self._bar.close()
        if self.enabled and completed:
            print(f"leapp-export: done in {time.monotonic() - self._started:.1f} s ({self._done} stages)",
                  file=self._stream)
