"""Joint-level actuation the sim bridge emulates: PD law with effort limits and an actuator delay line."""

from __future__ import annotations

import numpy as np

from leapp_ros.errors import ConfigurationError


def pd_torque(q: np.ndarray, qd: np.ndarray, q_target: np.ndarray, qd_target: np.ndarray,
              kp: np.ndarray, kd: np.ndarray, tau_ff: np.ndarray | float = 0.0,
              effort_limit: np.ndarray | float = np.inf) -> np.ndarray:
    """Explicit PD torque ``kp (q* - q) + kd (qd* - qd) + tau_ff`` clipped to ``±effort_limit``.

    The same law as Isaac Lab's ``IdealPDActuator``; broadcasts over leading (environment) axes.
    """
    tau = kp * (q_target - q) + kd * (qd_target - qd) + tau_ff
    return np.clip(tau, -effort_limit, effort_limit)


class CommandDelay:
    """Fixed delay line for joint commands, counted in physics steps (like Isaac Lab's DelayedPDActuator).

    ``push`` is called once per physics step with the command of that step and returns the command
    of ``steps`` physics steps earlier; before that much history exists it returns the reset command.
    """

    def __init__(self, steps: int, shape: tuple[int, ...]) -> None:
        if int(steps) != steps or steps < 0:
            raise ConfigurationError(f"actuator delay must be a whole number of physics steps >= 0, got {steps}")
        self.steps = int(steps)
        self._ring = np.zeros((self.steps + 1, *shape))
        self._head = 0  # slot the next push writes

    def reset(self, command: np.ndarray, columns: np.ndarray | None = None) -> None:
        """Fill the history with ``command`` (the state right after a reset), optionally only some joints."""
        if columns is None:
            self._ring[:] = command
            self._head = 0
        else:
            self._ring[..., columns] = command[..., columns]

    def push(self, command: np.ndarray) -> np.ndarray:
        """Record this step's command and return the one to apply now (a view valid until the next push)."""
        if self.steps == 0:
            return command
        self._ring[self._head] = command
        self._head = (self._head + 1) % (self.steps + 1)
        return self._ring[self._head]  # oldest entry: written ``steps`` pushes ago
