"""leapp_export: offline export of Isaac Lab policies (RSL-RL first) to LEAPP bundles."""

from leapp_export.errors import ExportError

__all__ = ["ExportError"]
