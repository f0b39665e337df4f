"""Start, watch and stop the demo's child processes (sim and deploy node), logging each to a file."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from leapp_ros.errors import LeappRosError


class ChildProcess:
    """A `leapp-ros` subcommand in its own process; stdout and stderr go to `<out>/<name>.log`."""

    def __init__(self, name: str, args: list[str], env: Mapping[str, str], out_dir: Path) -> None:
        self.name = name
        self.log_path = out_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        self._process = subprocess.Popen([sys.executable, "-m", "leapp_ros.cli.main", *args], env=dict(env),
                                         stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def check_alive(self) -> None:
        code = self._process.poll()
        if code is not None:
            raise LeappRosError(f"the {self.name} process exited early with code {code}; last lines of "
                                f"{self.log_path}:\n{self.tail()}")

    def tail(self, lines: int = 15) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGINT (the node publishes its safe command and shuts down cleanly), then kill if it hangs."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        return self._process.returncode
