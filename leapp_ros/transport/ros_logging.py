"""Route the product's Python loggers (`leapp_ros.*`) to an rclpy node's logger: /rosout, ROS formatting and
`--ros-args --log-level` apply to them as to any ROS node's messages."""

from __future__ import annotations

import logging
from typing import Any

from leapp_ros.transport.base import Transport

PRODUCT_LOGGER = "leapp_ros"


class RosLogHandler(logging.Handler):
    """Forwards each record to the rclpy logger (child loggers keep the Python logger's name as a suffix)."""

    def __init__(self, ros_logger: Any) -> None:
        super().__init__()
        self._ros_logger = ros_logger
        self._children: dict[str, Any] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            logger = self._children.get(record.name)
            if logger is None:
                suffix = record.name[len(PRODUCT_LOGGER):].lstrip(".")
                logger = self._ros_logger.get_child(suffix) if suffix else self._ros_logger
                self._children[record.name] = logger
            if record.levelno >= logging.CRITICAL:
                logger.fatal(text)
            elif record.levelno >= logging.ERROR:
                logger.error(text)
            elif record.levelno >= logging.WARNING:
                logger.warning(text)
            elif record.levelno >= logging.INFO:
                logger.info(text)
            else:
                logger.debug(text)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller (rclpy shut down, ...)
            self.handleError(record)


def python_level(ros_logger: Any) -> int:
    """The Python logging level matching the rclpy logger's effective severity."""
    from rclpy.logging import LoggingSeverity

    severity = ros_logger.get_effective_level()
    return {LoggingSeverity.DEBUG: logging.DEBUG, LoggingSeverity.INFO: logging.INFO,
            LoggingSeverity.WARN: logging.WARNING, LoggingSeverity.ERROR: logging.ERROR,
            LoggingSeverity.FATAL: logging.CRITICAL}.get(severity, logging.INFO)


def bridge_to_ros(ros_logger: Any) -> RosLogHandler:
    """Send every `leapp_ros.*` record to `ros_logger` (and only there); returns the handler to remove later."""
    handler = RosLogHandler(ros_logger)
    handler.setFormatter(logging.Formatter("%(message)s"))
    product = logging.getLogger(PRODUCT_LOGGER)
    product.addHandler(handler)
    product.setLevel(python_level(ros_logger))
    product.propagate = False  # not twice (a root handler from basicConfig would print it again)
    return handler


def unbridge(handler: RosLogHandler) -> None:
    product = logging.getLogger(PRODUCT_LOGGER)
    product.removeHandler(handler)
    product.propagate = True


def set_ros_level(ros_logger: Any, level_name: str) -> None:
    """Apply a `--log-level debug|info|warning|error` option to an rclpy logger."""
    from rclpy.logging import LoggingSeverity

    ros_logger.set_level({"debug": LoggingSeverity.DEBUG, "info": LoggingSeverity.INFO,
                          "warning": LoggingSeverity.WARN, "warn": LoggingSeverity.WARN,
                          "error": LoggingSeverity.ERROR}[level_name.lower()])


def bridge_transport(transport: Transport, level_name: str | None = None) -> RosLogHandler | None:
    """On the rclpy transport: ROS logging for every product logger (at `level_name` when given); else None."""
    node = getattr(transport, "node", None)  # the rclpy adapter's node
    if transport.name != "rclpy" or node is None:
        return None
    ros_logger = node.get_logger()
    if level_name:
        set_ros_level(ros_logger, level_name)
    return bridge_to_ros(ros_logger)
