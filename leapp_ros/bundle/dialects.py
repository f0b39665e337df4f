"""Which writers the loader reads: LEAPP config versions (and the leapp releases writing them), legacy 0.3.x."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leapp_ros.bundle.model import SchemaVersion

LEAPP_TOP_LEVEL = ("models", "pipeline", "system information")


@dataclass(frozen=True)
class ConfigVersion:
    """One `leapp config version` value and what the releases writing it put in a bundle."""

    value: str
    schema: SchemaVersion
    writers: tuple[str, ...]  # leapp releases on the public index that write this version (all tested)
    differences: str


# Learnt from the published wheels: `leapp/__init__.py:__config_version__` and `compile_graph()` of each release.
CONFIG_VERSIONS: dict[str, ConfigVersion] = {
    "1.1": ConfigVersion("1.1", SchemaVersion.LEAPP_0_5, ("0.5.1", "0.5.2"),
                         "no pipeline.configs (no policy rate) and no parameters.warp_segments; otherwise as 1.3"),
    "1.3": ConfigVersion("1.3", SchemaVersion.LEAPP_0_7, ("0.6.0", "0.6.1", "0.7.0", "0.7.1", "0.7.2"),
                         "pipeline.configs.frequency, parameters.warp_segments (0.7), pt2 backend (0.6+)"),
}
LEGACY_PREFIX = "0.3."  # NVIDIA's Isaac ROS bundles: no config version at all


def detect(info: Any, fail: Callable[..., Exception]) -> tuple[SchemaVersion, str, str | None]:
    """(schema, leapp version, config version) from `system information`; refuse an unknown writer by name."""
    if not isinstance(info, dict):
        raise fail("'system information' must be a mapping")
    leapp_version = str(info.get("leapp version", ""))
    config_version = info.get("leapp config version")
    if config_version is not None:
        known = CONFIG_VERSIONS.get(str(config_version))
        if known is None:
            raise fail(f"unknown leapp config version '{config_version}' (written by leapp {leapp_version or '?'}); "
                       f"this leapp_ros reads config versions {', '.join(CONFIG_VERSIONS)} "
                       f"(leapp {CONFIG_VERSIONS['1.1'].writers[0]} to {CONFIG_VERSIONS['1.3'].writers[-1]}) "
                       "and legacy leapp 0.3.x bundles")
        return known.schema, leapp_version, known.value
    if leapp_version.startswith(LEGACY_PREFIX):
        return SchemaVersion.LEAPP_0_3, leapp_version, None
    raise fail(f"unknown bundle schema: no 'leapp config version' and leapp version '{leapp_version or 'absent'}' "
               f"(known: config versions {', '.join(CONFIG_VERSIONS)}, legacy leapp 0.3.x, "
               "or an Isaac ROS Deploy graph config)")
