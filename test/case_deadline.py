"""A per-case time bound that a loaded machine does not trip: CPU seconds for work, a wide wall bound for blocking."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class CaseTimeout(BaseException):
    """Raised when a case runs past its bound; a BaseException so no `except Exception` under test swallows it."""


@contextmanager
def case_deadline(cpu_s: float, wall_s: float) -> Iterator[None]:
    """Raise CaseTimeout in the main thread once the process spent `cpu_s` of CPU (a busy loop, an expansion),
    or `wall_s` passed (a blocking read). CPU time does not grow while other processes hold the cores."""
    def expire_cpu(*_: object) -> None:
        raise CaseTimeout(f"more than {cpu_s} s of CPU time")

    def expire_wall(*_: object) -> None:
        raise CaseTimeout(f"no answer within {wall_s} s")
    previous = signal.signal(signal.SIGPROF, expire_cpu), signal.signal(signal.SIGALRM, expire_wall)
    signal.setitimer(signal.ITIMER_PROF, cpu_s)
    signal.setitimer(signal.ITIMER_REAL, wall_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGPROF, previous[0])
        signal.signal(signal.SIGALRM, previous[1])
