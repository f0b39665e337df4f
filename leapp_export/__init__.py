"""leapp_export: offline export of Isaac Lab policies (RSL-RL, skrl, SB3, rl_games, TorchRL) to LEAPP bundles."""

from leapp_export.errors import ExportError

__all__ = ["ExportError"]
