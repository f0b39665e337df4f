"""Inspect a `.pt2` archive before torch opens it: no native code, no pickle that is not weights-only safe.

`torch.export.load` unpickles some members with `weights_only=False` (pickled weights and constants, legacy
`.pt` payloads, sample inputs after a failed weights-only attempt), which runs whatever a hostile pickle says.
Every member that torch could unpickle is first loaded here with torch's weights-only unpickler, which
refuses any global outside its allowlist without running anything; a member that fails is refused with the
reason, and nothing of the archive is unpickled in the normal way until every member passed.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

from leapp_ros.text import clip, quote

MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 4 << 30
MAX_CONFIG_BYTES = 64 << 20
# Members torch never unpickles: archive metadata and the serialized graph (JSON).
METADATA = {"archive_format", "archive_version", "byteorder", "version", ".data/version", ".data/serialization_id",
            ".format_version", ".storage_alignment"}
NATIVE_CODE = ("data/aotinductor/", "data/executorch/", "data/mtia/")
NATIVE_SUFFIXES = (".so", ".dll", ".dylib", ".pyd")
UNRESTRICTED_CONSTANTS = {"custom_obj_": "a TorchScript custom object", "opaque_obj_": "an opaque Python object"}
ZIP_MAGIC = b"PK\x03\x04"

Fail = Callable[[str], Exception]


def check_pt2_archive(data: bytes, name: str, fail: Fail) -> None:
    """Refuse `data` (a .pt2 file's bytes) unless torch can load it without running code from it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise fail(f"'{name}' is not a .pt2 archive (a zip file): {clip(str(exc), 120)}") from None
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise fail(f"'{name}' unpacks to more than {MAX_MEMBERS} members or {MAX_UNPACKED_BYTES >> 30} GiB")
    raw_payloads = _raw_tensor_payloads(archive, name, fail)
    for info in infos:
        member = info.filename
        relative = member.split("/", 1)[1] if "/" in member else member
        if info.is_dir() or relative in METADATA:
            continue
        if relative.startswith(NATIVE_CODE) or relative.endswith(NATIVE_SUFFIXES):
            raise fail(f"'{name}' member {quote(member)} is compiled native code, which would run on load; "
                       "leapp_ros loads only exported programs")
        if member in raw_payloads:
            continue  # a raw tensor buffer torch reads with frombuffer
        content = _read(archive, info, name, fail)
        if relative.endswith(".json") and not content.startswith((ZIP_MAGIC, b"\x80")):
            continue  # the serialized graph and payload configs: parsed as JSON, never unpickled
        _check_weights_only(content, member, name, fail)


def _raw_tensor_payloads(archive: zipfile.ZipFile, name: str, fail: Fail) -> set[str]:
    """Members listed as raw (non-pickled) tensor buffers; refuses constants torch unpickles unrestricted."""
    raw: set[str] = set()
    for info in archive.infolist():
        directory, _, base = info.filename.rpartition("/")
        if not base.endswith(("_weights_config.json", "_constants_config.json")):
            continue
        if info.file_size > MAX_CONFIG_BYTES:
            raise fail(f"'{name}' member {quote(info.filename)} is larger than {MAX_CONFIG_BYTES >> 20} MiB")
        try:
            config = json.loads(_read(archive, info, name, fail)).get("config", {})
            entries = [(str(v["path_name"]), bool(v.get("use_pickle"))) for v in config.values()]
        except (ValueError, TypeError, KeyError, AttributeError):
            raise fail(f"'{name}' member {quote(info.filename)} is not a valid payload configuration") from None
        for path_name, use_pickle in entries:
            for prefix, what in UNRESTRICTED_CONSTANTS.items():
                if path_name.startswith(prefix):
                    raise fail(f"'{name}' holds {what} ({quote(path_name)}), which torch.export.load unpickles "
                               "without restriction; refused")
            if not use_pickle:
                raw.add(f"{directory}/{path_name}")
    return raw


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, fail: Fail) -> bytes:
    try:
        return archive.read(info)
    except Exception as exc:  # noqa: BLE001 - zlib.error, BadZipFile (CRC), NotImplementedError (compression)
        raise fail(f"'{name}' member {quote(info.filename)} cannot be read: {clip(str(exc), 120)}") from None


def _check_weights_only(content: bytes, member: str, name: str, fail: Fail) -> None:
    try:
        import torch
    except ImportError:  # without torch nothing can unpickle it; the engine refuses the node
        return
    try:
        torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - UnpicklingError, RuntimeError, ...
        text = str(exc).strip()
        reason = next((line.strip() for line in text.splitlines() if "GLOBAL" in line),
                      text.splitlines()[0] if text else type(exc).__name__)
        reason = reason.split(" Please ", 1)[0]  # torch goes on to explain how to allow the global: we do not
        raise fail(f"'{name}' member {quote(member)} is a pickle that torch's weights-only loader refuses "
                   f"({clip(reason, 200)}); it is never unpickled") from None
