"""A stand-in robot for `bench --e2e`: one valid message per input topic of a bundle's binding plan."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from leapp_ros.binding import BindingPlan
from leapp_ros.errors import LeappRosError

JOINT_STATE = "sensor_msgs/msg/JointState"
# where each supported state/command message type keeps its orientation (identity is the only valid default)
ORIENTATION = {"sensor_msgs/msg/Imu": ("orientation",), "nav_msgs/msg/Odometry": ("pose", "pose", "orientation"),
               "geometry_msgs/msg/PoseStamped": ("pose", "orientation")}
STAMPLESS = ("geometry_msgs/msg/Twist",)


def topic_messages(plan: BindingPlan, new_message: Callable[..., Any], seed: int = 0) -> list[tuple[str, str, Any]]:
    """(topic, type, message) per subscribed topic: joint states name every bound joint with small random
    positions/velocities; vector messages carry an identity orientation and zero rates/commands. The joint-state
    topic comes last so that, in event mode, the node ticks on it with every other input already fresh."""
    rng = np.random.default_rng(seed)
    found = []
    for topic in plan.inputs.topics:
        msg = new_message(topic.type_name)
        if topic.type_name == JOINT_STATE:
            joints = list(dict.fromkeys(j for b in topic.bindings for j in b.elements))
            msg.name = joints
            for field in ("position", "velocity", "effort"):
                setattr(msg, field, np.asarray(rng.uniform(-0.1, 0.1, len(joints)), dtype=np.float64))
        elif topic.type_name in ORIENTATION:
            holder = msg
            for part in ORIENTATION[topic.type_name]:
                holder = getattr(holder, part)
            holder.x, holder.y, holder.z, holder.w = 0.0, 0.0, 0.0, 1.0
        elif not topic.type_name.startswith("geometry_msgs/msg/Twist"):
            raise LeappRosError(f"bench --e2e does not know how to fake topic '{topic.topic}' "
                                f"[{topic.type_name}]")
        found.append((topic.topic, topic.type_name, msg))
    found.sort(key=lambda item: item[1] == JOINT_STATE)
    if not found or found[-1][1] != JOINT_STATE:
        raise LeappRosError("bench --e2e ticks the node on joint states, but the bundle binds no "
                            "sensor_msgs/msg/JointState input")
    return found


def set_stamp(msg: Any, stamp_ns: int) -> None:
    header = getattr(msg, "header", None)
    if header is not None:
        header.stamp.sec, header.stamp.nanosec = divmod(int(stamp_ns), 1_000_000_000)
