"""The real NVIDIA FR3 reach bundle drives the MuJoCo FR3 through the deploy node, over DDS, from PoseStamped
targets."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import REPO, shared_path
from transport_helpers import dds_env  # noqa: F401 - module fixture: loopback CYCLONEDDS_URI + unique domain

pytest.importorskip("mujoco", reason="the sim needs mujoco (pip install -e .[sim])")

GRIPPER_DOWN_XYZW = (1.0, 0.0, 0.0, 0.0)
TARGETS = np.array([[0.5, 0.0, 0.3], [0.4, 0.2, 0.45]])
HOLD_S = 5.0


def test_franka_reaches_posestamped_targets_through_the_node(dds_env, tmp_path, monkeypatch):  # noqa: F811
    from leapp_ros.demo.limits import limit_arguments
    from leapp_ros.demo.operator import ReachOperator
    from leapp_ros.demo.processes import ChildProcess
    from leapp_ros.transport import make_transport

    bundle = shared_path("fixtures", "bundles", "franka_fr3_reach")
    shared_path("fixtures", "robots", "franka_fr3", "fr3_reach.xml")
    for name, value in dds_env.items():
        monkeypatch.setenv(name, value)
    env = dict(__import__("os").environ)
    transport_args = ["--transport", "dds", "--discovery", "loopback"]
    sim_config = REPO / "examples" / "franka_fr3" / "sim.yaml"
    children = [ChildProcess("sim", ["sim", str(sim_config), *transport_args,
                                     "--duration", "120"], env, tmp_path),
                ChildProcess("deploy", ["run", str(bundle), *transport_args, "--rate", "30",
                                        "--param", "base_frame:=base_link",
                                        *limit_arguments(sim_config)], env, tmp_path)]
    transport = make_transport("dds", "franka_operator", domain_id=int(dds_env["ROS_DOMAIN_ID"]))
    try:
        operator = ReachOperator(transport, TARGETS, HOLD_S, base_frame="base_link",
                                 orientation_xyzw=GRIPPER_DOWN_XYZW)
        deadline = time.monotonic() + 120
        while not operator.finished:
            assert time.monotonic() < deadline, children[1].tail()
            for child in children:
                child.check_alive()
            if not operator.commanding:
                operator.resend()
            time.sleep(0.25)
    finally:
        codes = [child.stop() for child in reversed(children)]
        transport.shutdown()
    assert codes == [0, 0], children[1].tail()
    samples = operator.samples
    for index, target in enumerate(TARGETS):
        window = [(t, achieved) for t, commanded, achieved in samples
                  if np.allclose(commanded, target) and t >= (index + 1) * HOLD_S - 1.0]
        assert window, f"no samples in the last second of target {index}"
        error = np.mean([np.linalg.norm(achieved - target) for _, achieved in window])
        print(f"target {target}: final error {100 * error:.2f} cm")
        assert error < 0.03, f"target {index} {target}: the hand ended {100 * error:.1f} cm away"
