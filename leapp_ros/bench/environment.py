"""Software versions and hardware of the machine a benchmark ran on."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess

PACKAGES = ("numpy", "onnxruntime", "onnxruntime-gpu", "torch", "tensorrt", "leapp", "cyclonedds", "rosbags",
            "mujoco", "psutil")


def software() -> dict[str, object]:
    versions: dict[str, object] = {"python": platform.python_version(), "leapp_ros": _version("leapp_ros")}
    for name in PACKAGES:
        versions[name] = _version(name)
    versions["ros_distro"] = os.environ.get("ROS_DISTRO")
    versions["rmw_implementation"] = os.environ.get("RMW_IMPLEMENTATION")
    # transports this machine can run the node on: DDS (cyclonedds + rosbags), rclpy (a sourced ROS 2)
    versions["transports"] = [name for name, modules in (("dds", ("cyclonedds", "rosbags")), ("rclpy", ("rclpy",)))
                              if all(importlib.util.find_spec(m) is not None for m in modules)]
    return versions


def hardware() -> dict[str, object]:
    info: dict[str, object] = {"machine": platform.machine(), "cpu_model": _cpu_model(),
                               "logical_cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
                               "os": platform.platform()}
    info["memory_bytes"] = _memory_bytes()
    # other work on the machine skews every figure: record how busy it was when the run began
    info["load_average"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    info["gpus"] = _gpus()
    return info


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _memory_bytes() -> int | None:
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().total)


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
