"""JSON as Kazoo's decoder (jiffy) reads it, which is stricter than Python's ``json``.

Python accepts ``NaN``, ``Infinity`` and lone UTF-16 surrogate escapes such as
``"\\ud800"``; jiffy rejects all three as invalid JSON (its ``utf8_len`` refuses code
points D800-DFFF, and it has no literal for non-finite numbers). A Pivot reply that
Python would parse but Kazoo would not must take Kazoo's invalid-JSON path, and a
surrogate that slipped through would later break every UTF-8 writer downstream.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["JiffyError", "loads"]


class JiffyError(ValueError):
    """The text is JSON to Python but not to jiffy."""


def _reject_constant(name: str) -> Any:
    raise JiffyError(f"{name} is not JSON (jiffy has no literal for it)")


def _lone_surrogate(value: Any) -> str | None:
    """The first string (key or value) holding a lone surrogate, if any."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"\\u{ord(item[exc.start]):04x}"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def loads(text: str) -> Any:
    """Decode ``text`` as jiffy would; :class:`ValueError` for what jiffy rejects.

    ``RecursionError`` is left to the caller: Kazoo's Erlang decodes nesting that
    Python cannot, so it is not a JSON error there.
    """
    doc = json.loads(text, parse_constant=_reject_constant)
    # Surrogates can only come from \\u escapes (the text was decoded from UTF-8),
    # so the walk is skipped for the common reply without escapes.
    if "\\u" in text:
        bad = _lone_surrogate(doc)
        if bad is not None:
            raise JiffyError(f"lone UTF-16 surrogate {bad} in a string (jiffy rejects it as invalid_string)")
    return doc
