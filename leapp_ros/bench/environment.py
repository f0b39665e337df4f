"""Software versions and hardware of the machine a benchmark ran on."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess

PACKAGES = ("numpy", "onnxruntime", "onnxruntime-gpu", "torch", "tensorrt", "leapp", "cyclonedds", "rosbags",
            "mujoco")


def software() -> dict[str, object]:
    versions: dict[str, object] = {"python": platform.python_version(), "leapp_ros": _version("leapp_ros")}
    for name in PACKAGES:
        versions[name] = _version(name)
    versions["ros_distro"] = os.environ.get("ROS_DISTRO")
    return versions


def hardware() -> dict[str, object]:
    info: dict[str, object] = {"machine": platform.machine(), "cpu_model": _cpu_model(),
                               "logical_cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
                               "os": platform.platform()}
    info["gpus"] = _gpus()
    return info


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _gpus() -> list[dict[str, str]]:
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.strip().splitlines():
        name, driver, memory = (part.strip() for part in line.split(","))
        gpus.append({"name": name, "driver": driver, "memory": memory})
    return gpus
