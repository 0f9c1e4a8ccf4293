"""JSON as Kazoo's decoder (jiffy) reads it, which is stricter than Python's ``json``.

Python accepts ``NaN``, ``Infinity`` and lone UTF-16 surrogate escapes such as
``"\\ud800"``; jiffy rejects all three as invalid JSON (its ``utf8_len`` refuses code
points D800-DFFF, and it has no literal for non-finite numbers). A Pivot reply or a
Crossbar body that Python would parse but Kazoo would not must take Kazoo's invalid-JSON
path, and a surrogate that slipped through would later break every UTF-8 writer.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["JiffyError", "loads", "lone_surrogate_at", "reject_constant"]


class JiffyError(ValueError):
    """The text is JSON to Python but not to jiffy; ``offset`` is where, when known."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


def reject_constant(name: str) -> Any:
    """``parse_constant`` for ``json.loads``: jiffy has no literal for NaN or Infinity."""
    raise JiffyError(f"invalid literal {name}")


_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.S)


def lone_surrogate_at(text: str) -> int | None:
    """Offset in ``text`` of the first surrogate escape that is not a proper pair, or None.

    Text decoded from UTF-8 holds no surrogate of its own, so only escapes need checking;
    an escaped backslash is consumed whole, so ``"\\\\ud800"`` is six plain characters.
    """
    pending: int | None = None  # offset of a high surrogate awaiting its low half
    pending_end = -1
    for m in _ESCAPE.finditer(text):
        hexdigits = m.group(1)
        code = int(hexdigits, 16) if hexdigits else -1
        if pending is not None:
            if m.start() == pending_end and 0xDC00 <= code <= 0xDFFF:
                pending = None
                continue
            return pending
        if 0xD800 <= code <= 0xDBFF:
            pending, pending_end = m.start(), m.end()
        elif 0xDC00 <= code <= 0xDFFF:
            return m.start()
    return pending


def loads(text: str) -> Any:
    """Decode ``text`` as jiffy would; :class:`ValueError` for what jiffy rejects.

    ``RecursionError`` is left to the caller: Kazoo's Erlang decodes nesting that
    Python cannot, so it is not a JSON error there.
    """
    doc = json.loads(text, parse_constant=reject_constant)
    if "\\u" in text:
        bad = lone_surrogate_at(text)
        if bad is not None:
            raise JiffyError(f"lone UTF-16 surrogate {text[bad:bad + 6]} at character {bad + 1} "
                             "(jiffy rejects it as invalid_string)", bad)
    return doc
