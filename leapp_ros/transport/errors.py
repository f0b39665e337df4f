"""The one exception type the transport layer raises for bad configuration or input."""


class TransportError(RuntimeError):
    """A transport could not be created or used; the message names the culprit (topic, type, option)."""
