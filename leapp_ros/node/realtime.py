"""Optional real-time settings of the deploy node: tick-thread CPU affinity, SCHED_FIFO priority, memory locking,
and garbage collection kept off the tick path. Each setting the OS refuses is reported with a one-line reason."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leapp_ros.errors import ConfigurationError

LOG = logging.getLogger("leapp_ros.node")
MCL_CURRENT, MCL_FUTURE = 1, 2  # <sys/mman.h> on Linux
GC_MODES = ("scheduled", "automatic")
PR_SET_TIMERSLACK = 29  # <linux/prctl.h>
MAX_TIMER_SLACK_NS = 10_000_000
DEFAULT_TIMER_SLACK_NS = 1000
CPU_DMA_LATENCY = "/dev/cpu_dma_latency"  # the kernel's PM QoS interface: the request holds while the file is open
MAX_CPU_DMA_LATENCY_US = 2_000_000_000
DEFAULT_SWITCH_INTERVAL_US = 100
MAX_SWITCH_INTERVAL_US = 1_000_000


@dataclass(frozen=True)
class RealtimeSettings:
    """The `realtime.*` parameters (docs/performance.md has a bring-up recipe)."""

    cpu_affinity: tuple[int, ...] = ()  # CPUs the tick thread may run on; () = leave as inherited
    priority: int = 0  # SCHED_FIFO priority 1-99 of the tick thread; 0 = normal scheduling
    lock_memory: bool = False  # mlockall(MCL_CURRENT | MCL_FUTURE) at activation: no page faults on the tick path
    gc: str = "scheduled"  # scheduled: gc.freeze() after configure, collections between ticks; automatic: Python's
    # The tick thread's timer slack: how late the kernel may wake it after its deadline (Linux's default 50 us is
    # half the measured wake-up latency); 0 = inherited.
    timer_slack_ns: int = DEFAULT_TIMER_SLACK_NS
    # While active, no CPU may sleep in an idle state slower to leave than this (PM QoS, /dev/cpu_dma_latency):
    # an idle core otherwise wakes the tick late and cold. -1 = leave the system's power management alone.
    cpu_dma_latency_us: int = -1
    # How long a thread waiting for the interpreter lock waits before the holder must hand it over (Python: 5 ms).
    # The tick waits for it after every inference; a diagnostics or receive thread must not make it wait long.
    switch_interval_us: int = DEFAULT_SWITCH_INTERVAL_US

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> RealtimeSettings:
        cpus = params.get("realtime.cpu_affinity") or []
        mode = str(params.get("realtime.gc", "scheduled"))
        if not isinstance(cpus, (list, tuple)) or not all(isinstance(c, int) and c >= 0 for c in cpus):
            raise ConfigurationError(f"parameter 'realtime.cpu_affinity' must be a list of CPU numbers, got {cpus!r}")
        priority = _bounded_int(params, "realtime.priority", 0, 0, 99, "0-99")
        if mode not in GC_MODES:
            raise ConfigurationError(f"parameter 'realtime.gc' must be one of {GC_MODES}, got {mode!r}")
        slack = _bounded_int(params, "realtime.timer_slack_ns", DEFAULT_TIMER_SLACK_NS, 0, MAX_TIMER_SLACK_NS,
                             f"0-{MAX_TIMER_SLACK_NS}")
        latency = _bounded_int(params, "realtime.cpu_dma_latency_us", -1, -1, MAX_CPU_DMA_LATENCY_US,
                               f"-1 (off) to {MAX_CPU_DMA_LATENCY_US}")
        switch = _bounded_int(params, "realtime.switch_interval_us", DEFAULT_SWITCH_INTERVAL_US, 0,
                              MAX_SWITCH_INTERVAL_US, f"0 (Python's) to {MAX_SWITCH_INTERVAL_US}")
        return cls(tuple(cpus), priority, bool(params.get("realtime.lock_memory", False)), mode, slack, latency,
                   switch)


def _bounded_int(params: Mapping[str, Any], name: str, default: int, low: int, high: int, allowed: str) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"parameter '{name}' must be an integer {allowed}, got {value!r}")
    return value


@dataclass
class RealtimeReport:
    """What was applied and what the OS refused (one line each), for the log and diagnostics."""

    applied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def text(self) -> str:
        parts = [*self.applied, *(f"REFUSED {r}" for r in self.refused)]
        return "; ".join(dict.fromkeys(parts)) or "none requested"  # each activation reports again: once each


def apply_to_current_thread(settings: RealtimeSettings, report: RealtimeReport) -> None:
    """CPU affinity, SCHED_FIFO and timer slack for the calling thread (Linux applies each per thread)."""
    if settings.cpu_affinity:
        _try(report, f"tick thread on CPUs {list(settings.cpu_affinity)}",
             lambda: os.sched_setaffinity(0, set(settings.cpu_affinity)))
    if settings.priority:
        _try(report, f"tick thread SCHED_FIFO priority {settings.priority}",
             lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(settings.priority)),
             hint="needs CAP_SYS_NICE or an rtprio limit (ulimit -r / limits.conf)")
    if settings.timer_slack_ns:
        _try(report, f"tick thread timer slack {settings.timer_slack_ns} ns",
             lambda: _prctl(PR_SET_TIMERSLACK, settings.timer_slack_ns), hint="Linux only")


class CpuLatencyHold:
    """Holds a PM QoS CPU wake-up latency request (cyclictest does the same) from activation until release."""

    def __init__(self, path: str = CPU_DMA_LATENCY) -> None:
        self.path = path
        self._file: Any = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def engage(self, limit_us: int, report: RealtimeReport) -> None:
        if limit_us < 0 or self._file is not None:
            return
        _try(report, f"CPU wake-up latency held at {limit_us} us ({self.path})", lambda: self._open(limit_us),
             hint="needs root or write access to it")

    def _open(self, limit_us: int) -> None:
        handle = open(self.path, "wb", buffering=0)  # noqa: SIM115 - held open on purpose: closing ends the request
        try:
            handle.write(struct.pack("i", limit_us))
        except OSError:
            handle.close()
            raise
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class SwitchInterval:
    """The interpreter's thread switch interval (process-wide) while the node is active; restored at release."""

    def __init__(self) -> None:
        self._saved: float | None = None

    def engage(self, interval_us: int, report: RealtimeReport) -> None:
        if not interval_us or self._saved is not None:
            return
        self._saved = sys.getswitchinterval()
        sys.setswitchinterval(interval_us * 1e-6)
        report.applied.append(f"interpreter switch interval {interval_us} us")

    def release(self) -> None:
        if self._saved is not None:
            sys.setswitchinterval(self._saved)
            self._saved = None


def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _raise_errno() -> None:
    errno = ctypes.get_errno()
    raise OSError(errno, os.strerror(errno))


def _prctl(option: int, value: int) -> None:
    if _libc().prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        _raise_errno()


def lock_memory(report: RealtimeReport) -> None:
    """mlockall(MCL_CURRENT | MCL_FUTURE) through libc."""
    def call() -> None:
        if _libc().mlockall(MCL_CURRENT | MCL_FUTURE) != 0:
            _raise_errno()
    _try(report, "memory locked (mlockall)", call, hint="needs CAP_IPC_LOCK or a memlock limit (ulimit -l)")


def _try(report: RealtimeReport, what: str, action, hint: str = "") -> None:
    try:
        action()
    except (OSError, AttributeError, ValueError) as exc:  # AttributeError: not Linux (no sched_setaffinity)
        reason = f"{what}: {exc}" + (f" ({hint})" if hint else "")
        report.refused.append(reason)
        LOG.warning("realtime setting refused: %s", reason)
    else:
        report.applied.append(what)


class ScheduledGc:
    """Keeps Python's cyclic garbage collector off the tick path: objects alive after configure are frozen (never
    scanned again), automatic collection is off, and `step()` (called between ticks) collects the young
    generations when they are due, the old one rarely. `release()` restores automatic collection."""

    def __init__(self, young_threshold: int = 700, old_every: int = 100) -> None:
        self._young = young_threshold
        self._old_every = old_every
        self._steps = 0
        self.collections = 0
        self.active = False

    def engage(self) -> None:
        gc.collect()
        gc.freeze()
        gc.disable()
        self.active = True

    def step(self) -> None:
        if not self.active:
            return
        counts = gc.get_count()
        if counts[0] < self._young:
            return
        self._steps += 1
        gc.collect(2 if self._steps % self._old_every == 0 else (1 if counts[1] >= 10 else 0))
        self.collections += 1

    def release(self) -> None:
        if self.active:
            self.active = False
            gc.enable()
            gc.unfreeze()


