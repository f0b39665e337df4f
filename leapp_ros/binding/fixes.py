"""The exact parameter line that places a port the bundle does not label well enough to bind."""

from __future__ import annotations

from leapp_ros.bundle import Bundle, Port
from leapp_ros.errors import ConfigurationError


class UnplacedPortError(ConfigurationError):
    """A port whose element order is unknown; `fix` is the parameter line that would place it."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(f"{message}; fix it with the parameter line  {fix}")
        self.fix = fix


def suggested_names(port: Port, bundle: Bundle | None, joints: bool, defaults: tuple[str, ...] | None) -> list[str]:
    """Best guess for a port's labels: a same-size labelled joint port, the labels the loader dropped, the
    role's defaults; padded with `<element N>` placeholders to the port's size."""
    size = port.size
    candidates: list[tuple[str, ...]] = []
    if joints and bundle is not None:
        candidates += [p.last_axis_names for p in (*bundle.inputs, *bundle.outputs)
                       if p is not port and p.size == size and p.last_axis_names is not None and _is_joint_port(p)]
    if port.unplaced_names is not None:
        candidates.append(port.unplaced_names)
    if defaults is not None:
        candidates.append(defaults)
    for names in candidates:
        unique = list(dict.fromkeys(names))
        if len(unique) == size:
            return unique
    base = list(dict.fromkeys(port.unplaced_names or defaults or ()))[:size]
    return base + [f"<{'joint' if joints else 'element'} {i + 1}>" for i in range(len(base), size)]


def _is_joint_port(port: Port) -> bool:
    kind = port.kind or ""
    return "/joint/" in kind or kind in ("kp", "kd") or "joint" in str(port.connection or "")


def fix_line(port: Port, attribute: str, names: list[str]) -> str:
    return f"ports.{port.name}.{attribute}: [{', '.join(names)}]"
