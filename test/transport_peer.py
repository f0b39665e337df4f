"""FakePeer: a separate process speaking ROS 2 over the DDS transport, driven by a JSON spec (see transport_helpers).

Spec keys: node, namespace, ros_distro, publish: [{topic, type, qos, fields, rate_hz, count}],
subscribe: [{topic, type, qos}], duration_s. Stops when stdin closes or duration_s elapses.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from transport_helpers import message_from_dict, message_to_dict

from leapp_ros.transport.base import DEFAULT, LATCHED, SENSOR_DATA, QosProfile
from leapp_ros.transport.dds import DdsTransport

QOS = {"default": DEFAULT, "sensor_data": SENSOR_DATA, "latched": LATCHED}
_print_lock = threading.Lock()


def emit(event: dict[str, Any]) -> None:
    with _print_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def qos_of(name: str | dict[str, Any]) -> QosProfile:
    return QOS[name] if isinstance(name, str) else QosProfile(**name)


def main() -> int:
    spec = json.loads(sys.argv[1])
    transport = DdsTransport(spec.get("node", "fake_peer"), spec.get("namespace", "/"),
                             ros_distro=spec.get("ros_distro", "jazzy"))
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    subs = []
    for item in spec.get("subscribe", []):
        topic = item["topic"]
        subs.append(transport.create_subscription(
            topic, item["type"], qos_of(item.get("qos", "default")),
            lambda msg, topic=topic: emit({"event": "msg", "topic": topic, "msg": message_to_dict(msg)})))
    pubs = []
    for item in spec.get("publish", []):
        pub = transport.create_publisher(item["topic"], item["type"], qos_of(item.get("qos", "default")))
        msg = message_from_dict(transport.typestore, item["type"], item.get("fields", {}))
        pubs.append({"pub": pub, "msg": msg, "period": 1.0 / item.get("rate_hz", 50.0),
                     "left": item.get("count"), "next": time.monotonic()})
    emit({"event": "ready", "participant_guid": transport.participant.guid.hex,
          "writers": {p["pub"].topic: p["pub"].writer.guid.hex for p in pubs},
          "readers": {s.topic: s.reader.guid.hex for s in subs}})
    deadline = time.monotonic() + spec.get("duration_s", 60.0)
    while not stop.is_set() and time.monotonic() < deadline:
        now = time.monotonic()
        for p in pubs:
            if p["left"] != 0 and now >= p["next"]:
                p["pub"].publish(p["msg"])
                p["next"] += p["period"]
                if p["left"] is not None:
                    p["left"] -= 1
                    if p["left"] == 0:
                        emit({"event": "published_all", "topic": p["pub"].topic})
        stop.wait(0.002)
    emit({"event": "done", "invalid": {s.topic: s.invalid_samples for s in subs}})
    transport.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
