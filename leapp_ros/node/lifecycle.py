"""The ROS 2 managed-node state machine (unconfigured, inactive, active, finalized) for the DDS runner."""

from __future__ import annotations

from enum import Enum

from leapp_ros.errors import ConfigurationError


class State(str, Enum):
    UNCONFIGURED = "unconfigured"
    INACTIVE = "inactive"
    ACTIVE = "active"
    FINALIZED = "finalized"


# transition -> (from, to): the primary states of REP/design "Managed nodes".
TRANSITIONS = {
    "configure": (State.UNCONFIGURED, State.INACTIVE),
    "activate": (State.INACTIVE, State.ACTIVE),
    "deactivate": (State.ACTIVE, State.INACTIVE),
    "cleanup": (State.INACTIVE, State.UNCONFIGURED),
}


class Lifecycle:
    """Checks that a transition is allowed before it runs, and records where it ended."""

    def __init__(self) -> None:
        self.state = State.UNCONFIGURED

    def begin(self, transition: str) -> None:
        source, _ = TRANSITIONS[transition]
        if self.state is not source:
            raise ConfigurationError(f"cannot {transition} from state '{self.state.value}' "
                                     f"(it needs '{source.value}')")

    def finish(self, transition: str) -> None:
        self.state = TRANSITIONS[transition][1]

    def fail(self, transition: str, back_to: State | None = None) -> None:
        """A failed transition returns to its start state (rclpy: TransitionCallbackReturn.FAILURE)."""
        self.state = back_to or TRANSITIONS[transition][0]

    def finalize(self) -> None:
        self.state = State.FINALIZED
