"""The one exception type the transport layer raises for bad configuration or input."""

from leapp_ros.errors import LeappRosError


class TransportError(LeappRosError, RuntimeError):
    """A transport could not be created or used; the message names the culprit (topic, type, option).

    A `LeappRosError`, so every command reports it as one line with exit code 2 (a `RuntimeError` as well, as
    callers written before it joined the hierarchy expect)."""
