"""Locate the demo's example files (bundle, sim config, task metrics) in a checkout or an installed share dir."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from leapp_ros.errors import ConfigurationError

DEMO = "reach_arm"
BUNDLE = "bundle/Leapp-Reach-Arm-v0"


@dataclass(frozen=True)
class DemoExample:
    directory: Path

    @property
    def bundle(self) -> Path:
        return self.directory / BUNDLE

    @property
    def sim_config(self) -> Path:
        return self.directory / "sim.yaml"

    def metrics(self) -> ModuleType:
        """The example's metrics module (demo targets, per-window errors, plot), shared with its evaluations."""
        if str(self.directory) not in sys.path:
            sys.path.insert(0, str(self.directory))
        return importlib.import_module("metrics")


def find_example(directory: str | Path | None = None) -> DemoExample:
    candidates = [Path(directory)] if directory else _default_locations()
    for candidate in candidates:
        if (candidate / BUNDLE).is_dir() and (candidate / "sim.yaml").is_file():
            return DemoExample(candidate.resolve())
    raise ConfigurationError(f"the demo example '{DEMO}' was not found (looked in "
                             f"{', '.join(str(c) for c in candidates)}); pass --example-dir")


def _default_locations() -> list[Path]:
    locations = [Path(__file__).resolve().parents[2] / "examples" / DEMO]  # source checkout / pip -e
    try:
        from ament_index_python.packages import get_package_share_directory
        locations.append(Path(get_package_share_directory("leapp_ros")) / "examples" / DEMO)
    except Exception:  # noqa: BLE001 - no ROS, or the package is not installed through colcon
        pass
    return locations
