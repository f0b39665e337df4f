"""Run LEAPP pipelines: backends behind one interface, data_flow and feedback routing, reset."""

from leapp_ros.engine.backends import BackendOptions, backend_names
from leapp_ros.engine.pipeline import Engine
from leapp_ros.errors import EngineError

__all__ = ["BackendOptions", "Engine", "EngineError", "backend_names"]
