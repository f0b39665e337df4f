"""Scene sensors the offline exporter understands: ray casters with a grid pattern (height scan)."""

from __future__ import annotations

import torch

from leapp_export.env_config import EnvConfig
from leapp_export.errors import ExportError


def ray_caster_num_rays(env: EnvConfig, entity: str) -> int:
    """Number of rays of a ray-caster sensor, from its GridPatternCfg (as Isaac Lab's grid_pattern builds them)."""
    cfg = env.scene_entity(entity)
    pattern = cfg.get("pattern_cfg") or {}
    func = str(pattern.get("func", ""))
    if not func.endswith(":grid_pattern"):
        raise ExportError(f"{env.path}: scene.{entity}.pattern_cfg is '{func or pattern}', only grid_pattern ray "
                          "casters are supported offline")
    resolution = float(pattern["resolution"])
    size = [float(s) for s in pattern["size"]]
    nx = torch.arange(start=-size[0] / 2, end=size[0] / 2 + 1.0e-9, step=resolution).numel()
    ny = torch.arange(start=-size[1] / 2, end=size[1] / 2 + 1.0e-9, step=resolution).numel()
    return nx * ny
