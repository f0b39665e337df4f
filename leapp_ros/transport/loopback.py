"""Loopback-only Cyclone DDS configuration and an environment (CYCLONEDDS_URI + free ROS_DOMAIN_ID) for tests."""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOOPBACK_CONFIG = Path(__file__).with_name("cyclonedds_loopback.xml")
# Domain ids whose RTPS ports stay below the Linux ephemeral range with the default port mapping.
_DOMAIN_IDS = range(1, 102)


def loopback_config_uri() -> str:
    """``file://`` URI of the shipped loopback config (127.0.0.1, multicast off, Peer 127.0.0.1)."""
    return LOOPBACK_CONFIG.resolve().as_uri()


def _domain_looks_free(domain_id: int) -> bool:
    """True when the domain's first unicast discovery port (index 0) on 127.0.0.1 is unbound."""
    port = 7400 + 250 * domain_id + 10  # RTPS: PB + DG * domain + d1, participant index 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_domain_id(rng: random.Random | None = None, attempts: int = 30) -> int:
    """A random ROS domain id in 1..101 that nobody on this host seems to use yet."""
    rng = rng or random.SystemRandom()
    candidates = rng.sample(list(_DOMAIN_IDS), k=min(attempts, len(_DOMAIN_IDS)))
    for domain_id in candidates:
        if _domain_looks_free(domain_id):
            return domain_id
    return candidates[0]


def loopback_environment(domain_id: int | None = None) -> dict[str, str]:
    """Environment variables that keep ROS 2 / Cyclone traffic on 127.0.0.1 in a private domain.

    ``CYCLONEDDS_URI`` points at the shipped loopback config; ``ROS_DOMAIN_ID`` is ``domain_id`` or a
    free random one; ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` makes real ROS nodes (Iron and later)
    started with this environment localhost-only too (on Humble set ``ROS_LOCALHOST_ONLY=1`` yourself).
    """
    return {
        "CYCLONEDDS_URI": loopback_config_uri(),
        "ROS_DOMAIN_ID": str(pick_domain_id() if domain_id is None else domain_id),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
    }
