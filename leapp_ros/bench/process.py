"""CPU share and resident memory of one process over a measured span (psutil)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from leapp_ros.errors import LeappRosError


def _psutil():
    try:
        import psutil
    except ImportError:
        raise LeappRosError("measuring CPU share and memory needs psutil: pip install psutil") from None
    return psutil


class ProcessMeter:
    """Samples a process's CPU time and RSS at `start()` and `stop()`; `result()` is the bundle's process entry.

    cpu_share is CPU seconds over wall seconds (1.0 = one core busy the whole span, can exceed 1 with threads).
    """

    def __init__(self, pid: int | None = None, role: str = "bench") -> None:
        psutil = _psutil()
        self.pid = os.getpid() if pid is None else pid
        self.role = role
        self._process = psutil.Process(self.pid)
        self._wall0 = self._cpu0 = 0.0
        self._entry: dict[str, Any] | None = None

    def _cpu_s(self) -> float:
        times = self._process.cpu_times()
        return times.user + times.system

    def start(self) -> ProcessMeter:
        self._wall0, self._cpu0 = time.perf_counter(), self._cpu_s()
        return self

    def stop(self) -> dict[str, Any]:
        wall, cpu = time.perf_counter() - self._wall0, self._cpu_s() - self._cpu0
        memory = self._process.memory_info()
        self._entry = {"role": self.role, "pid": self.pid, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                       "cpu_share": round(cpu / wall, 4) if wall > 0 else None,
                       "rss_bytes": int(memory.rss), "peak_rss_bytes": peak_rss_bytes(self.pid),
                       "threads": self._process.num_threads()}
        return self._entry

    def __enter__(self) -> ProcessMeter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def result(self) -> dict[str, Any]:
        if self._entry is None:
            raise RuntimeError("ProcessMeter.result() before stop()")
        return self._entry


def peak_rss_bytes(pid: int) -> int | None:
    """High-water resident set (VmHWM) from /proc on Linux; None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def interrupt(process: subprocess.Popen, timeout: float = 10.0) -> str:
    """Stop a child the way Ctrl-C does (SIGINT), kill it if it hangs past `timeout`; returns its captured output
    ('' when its output was not piped)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        output = process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0]
    return output or ""
