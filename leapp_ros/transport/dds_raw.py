"""Raw CDR write/take through cyclonedds' private ``_clayer`` (pinned cyclonedds==11.0.1)."""

from __future__ import annotations

from typing import Any

from leapp_ros.transport.errors import TransportError

PINNED_CYCLONEDDS = "11.0.1"


def require_cyclonedds() -> Any:
    """Import cyclonedds, failing clearly when it is missing or not the pinned version."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        from cyclonedds import _clayer
    except ImportError as exc:
        raise TransportError(f"the DDS transport needs cyclonedds: pip install cyclonedds=={PINNED_CYCLONEDDS} "
                             "(x86_64/macOS wheels; on aarch64 build it against Cyclone DDS C)") from exc
    try:
        found = version("cyclonedds")
    except PackageNotFoundError:  # built from source without metadata: trust it
        found = PINNED_CYCLONEDDS
    if found != PINNED_CYCLONEDDS:
        raise TransportError(f"cyclonedds {found} found; the raw-bytes path uses its private _clayer API and "
                             f"is only verified with cyclonedds=={PINNED_CYCLONEDDS}")
    return _clayer


def any_state_mask() -> int:
    """Mask selecting every sample/view/instance state."""
    from cyclonedds.core import InstanceState, SampleState, ViewState

    return SampleState.Any | ViewState.Any | InstanceState.Any


def pad4(cdr: bytes | memoryview) -> bytes:
    """CDR bytes padded to a multiple of 4, as cyclonedds-python writes them."""
    data = bytes(cdr)
    pad = -len(data) % 4
    return data + b"\0" * pad if pad else data


def write_cdr(writer: Any, cdr: bytes | bytearray) -> None:
    """Write one serialized sample (encapsulation header included, 4-byte padded) on ``writer``."""
    from cyclonedds._clayer import ddspy_write

    ret = ddspy_write(writer._ref, cdr)
    if ret < 0:
        raise TransportError(f"DDS write failed with return code {ret} on topic {writer.topic.name!r}")


def take_cdr(reader: Any, mask: int, max_samples: int = 64) -> tuple[list[bytes], int]:
    """Take up to ``max_samples``; return (valid samples' CDR bytes, number of invalid samples dropped).

    Invalid samples carry no data (e.g. a remote writer went away); they never reach callbacks.
    """
    from cyclonedds._clayer import ddspy_take

    ret = ddspy_take(reader._ref, mask, max_samples)
    if isinstance(ret, int):
        raise TransportError(f"DDS take failed with return code {ret} on topic {reader.topic.name!r}")
    valid = [data for data, info in ret if info.valid_data]
    return valid, len(ret) - len(valid)
