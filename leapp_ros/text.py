"""Quote untrusted values (bundle content, file names) into bounded, one-line message text."""

from __future__ import annotations

import re
import reprlib

QUOTE_LIMIT = 80
MESSAGE_LIMIT = 1000

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 3, 6, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = QUOTE_LIMIT, QUOTE_LIMIT, 40


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`repr(value)` cut to `limit` characters; never walks more than a few levels of a container."""
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__ must not take the error path down
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """One line of at most `limit` characters (line breaks and control characters escaped)."""
    if len(text) > 4 * limit:
        text = text[: 4 * limit]
    escaped = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


def exception_summary(exc: BaseException, limit: int = 300) -> str:
    """`Type: message` of a foreign exception in one line; for a multi-line message (TorchScript's interpreter
    traceback, for one) the last `SomethingError: ...` line, which carries the cause."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    causes = [line for line in lines if re.match(r"^[\w.]*(Error|Exception): ", line)]
    text = causes[-1] if causes else f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return clip(text, limit)
