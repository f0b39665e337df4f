"""Helpers for the sim tests: the shared fixture paths and small MJCF models written for the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FR3_XML = SHARED / "fixtures" / "robots" / "franka_fr3" / "fr3_reach.xml"
FR3_BUNDLE_YAML = SHARED / "fixtures" / "bundles" / "franka_fr3_reach" / "franka_reach.yaml"
FR3_JOINTS = [f"fr3_joint{i}" for i in range(1, 8)]
REACH_ARM_XML = Path(__file__).resolve().parents[1] / "examples" / "reach_arm" / "reach_arm.xml"


def require_fr3() -> Path:
    """Path of the Franka FR3 fixture model, or skip the test with the reason printed."""
    if not FR3_XML.is_file():
        print(f"skipping: shared fixture {FR3_XML} is absent")
        pytest.skip(f"shared fixture {FR3_XML} is absent")
    return FR3_XML


# A floating box carrying an IMU site (rotated w.r.t. the body) and MuJoCo's own IMU sensors at that
# site, to check the computed IMU read-out against MuJoCo's sensors. No contacts (no floor).
FLOATING_IMU_XML = """
<mujoco model="floating_imu">
  <option timestep="0.002" gravity="0 0 -9.81"/>
  <worldbody>
    <body name="trunk" pos="0 0 1" quat="0.9659258 0.0 0.258819 0.0">
      <freejoint name="root"/>
      <geom type="box" size="0.2 0.1 0.05" mass="5" contype="0" conaffinity="0"/>
      <site name="imu" pos="0.05 0.02 0.03" quat="0.7071068 0 0 0.7071068"/>
      <body name="leg" pos="0.2 0 0">
        <joint name="hip" axis="0 1 0" range="-1 1"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.2" size="0.02" mass="0.5" contype="0" conaffinity="0"/>
      </body>
    </body>
  </worldbody>
  <sensor>
    <gyro name="gyro" site="imu"/>
    <accelerometer name="acc" site="imu"/>
    <framequat name="quat" objtype="site" objname="imu"/>
  </sensor>
</mujoco>
"""

# Two hinge joints, the second driven by a position servo (which the bridge must refuse).
SERVO_ARM_XML = """
<mujoco model="servo_arm">
  <worldbody>
    <body name="l1">
      <joint name="j1" axis="0 0 1"/>
      <geom type="capsule" fromto="0 0 0 0.2 0 0" size="0.02" mass="1"/>
      <body name="l2" pos="0.2 0 0">
        <joint name="j2" axis="0 1 0"/>
        <geom type="capsule" fromto="0 0 0 0.2 0 0" size="0.02" mass="1"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="m1" joint="j1"/>
    <position name="servo2" joint="j2" kp="50"/>
  </actuator>
</mujoco>
"""

# A hinge joint without any actuator (torque goes through qfrc_applied) and a slide joint.
BARE_JOINTS_XML = """
<mujoco model="bare_joints">
  <option gravity="0 0 0"/>
  <worldbody>
    <body name="base">
      <body name="l1">
        <joint name="hinge" axis="0 0 1"/>
        <geom type="capsule" fromto="0 0 0 0.2 0 0" size="0.02" mass="1"/>
        <body name="slider" pos="0.2 0 0">
          <joint name="slide" type="slide" axis="1 0 0"/>
          <geom type="sphere" size="0.03" mass="0.5"/>
        </body>
      </body>
    </body>
  </worldbody>
</mujoco>
"""


def model_from_xml(xml: str):
    """Compile an MJCF string (mujoco imported lazily, as in the product code)."""
    import mujoco

    return mujoco.MjModel.from_xml_string(xml)


class SimProcess:
    """``python -m leapp_ros.sim.cli CONFIG --transport dds --discovery loopback ...`` as a child process."""

    def __init__(self, config: Path, *args: str) -> None:
        import subprocess
        import sys

        self.command = [sys.executable, "-m", "leapp_ros.sim.cli", str(config), "--transport", "dds",
                        "--discovery", "loopback", *args]
        self.proc = subprocess.Popen(self.command, cwd=str(Path(__file__).resolve().parents[1]),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def output(self) -> str:
        return self.proc.stdout.read() if self.proc.stdout else ""

    def stop(self, timeout: float = 20.0, interrupt: bool = True) -> tuple[int, str]:
        """Ctrl-C the sim (or wait for its --duration), then return (exit code, combined output)."""
        import signal
        import subprocess

        if interrupt and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            out, _ = self.proc.communicate(timeout=10)
        return self.proc.returncode, out or ""


class Latest:
    """Keeps the last message (and a count) per topic from DDS subscriptions."""

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.msgs: dict[str, object] = {}
        self.counts: dict[str, int] = {}
        self.history: dict[str, list] = {}

    def callback(self, key: str, keep: bool = False):
        def store(msg: object) -> None:
            with self.lock:
                self.msgs[key] = msg
                self.counts[key] = self.counts.get(key, 0) + 1
                if keep:
                    self.history.setdefault(key, []).append(msg)
        return store

    def get(self, key: str):
        with self.lock:
            return self.msgs.get(key)


def wait_for(predicate, timeout: float, period: float = 0.02) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return predicate()
