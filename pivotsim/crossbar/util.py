"""Small helpers shared by the fake Crossbar: ids, time, JSON copies, number normalisation."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

#: Unix time + this = Gregorian seconds, the unit of every Kazoo ``pvt_created``.
GREGORIAN_OFFSET = 62_167_219_200

Clock = Callable[[], float]


def new_id() -> str:
    """A CouchDB-style id: 32 lower-case hex characters, as Kazoo generates them."""
    return os.urandom(16).hex()


def system_clock() -> float:
    return time.time()


def gregorian(unix: float) -> int:
    return int(unix) + GREGORIAN_OFFSET


_last_stamp: tuple[int, str] = (-1, "")


def iso_timestamp(unix: float) -> str:
    """The envelope's ``timestamp``: ISO 8601, UTC, whole seconds, ``Z`` (cached per second)."""
    global _last_stamp
    second = int(unix)
    cached = _last_stamp
    if cached[0] == second:
        return cached[1]
    text = datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    _last_stamp = (second, text)
    return text


def modb_suffix(unix: float) -> str:
    """``YYYYMM`` of the monthly database a document written at ``unix`` lands in."""
    return datetime.fromtimestamp(int(unix), tz=timezone.utc).strftime("%Y%m")


def json_copy(value: Any) -> Any:
    """Deep-copy a JSON value; much faster than copy.deepcopy for plain dicts and lists."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into ``base`` recursively (kz_json:merge): PATCH for callflows and c2c."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = deep_merge(old, value)
        else:
            out[key] = json_copy(value)
    return out


def public_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """kz_doc:public_fields: drop ``_*`` and ``pvt_*`` keys, add ``id``; keep ``_read_only``."""
    out = {k: v for k, v in doc.items() if not (k[:1] == "_" or k[:4] == "pvt_")}
    if "_id" in doc:
        out["id"] = doc["_id"]
    if "_read_only" in doc:
        out["_read_only"] = doc["_read_only"]
    return out


def strip_private(data: dict[str, Any]) -> dict[str, Any]:
    """Request data without private keys: Kazoo ignores them (validates public fields only)."""
    return {k: v for k, v in data.items() if not (k[:1] == "_" or k[:4] == "pvt_")}


_NANP = re.compile(r"^(\+?1)?([2-9]\d{2}[2-9]\d{6})$")
_INTL = re.compile(r"^(?:011|00)(\d{5,})$")
_LONG = re.compile(r"^[2-9]\d{7,}$")


def normalize_number(number: str) -> str:
    """Kazoo's default E.164 converters (knm_converter_regex), nothing more.

    ``+...`` stays; 10-digit NANP (optionally with 1 or +1) gets ``+1``; ``011``/``00``
    prefixes become ``+``; 8+ digits not starting 0/1 get ``+``; anything else
    (``"1"``, extensions, SIP URIs) is unchanged.
    """
    if number.startswith("+"):
        return number
    m = _NANP.match(number)
    if m:
        return "+1" + m.group(2)
    m = _INTL.match(number)
    if m:
        return "+" + m.group(1)
    if _LONG.match(number):
        return "+" + number
    return number


def normalize_contact(contact: str) -> str:
    """A click-to-call contact: RFC 3986-encoded first, then normalised (so ``+`` gets mangled)."""
    return normalize_number(quote(contact, safe="-._~"))


def regex_search(pattern: str, subject: str) -> bool:
    """An unanchored ``re:run``; a pattern Python cannot compile simply does not match."""
    try:
        return re.search(pattern, subject) is not None
    except (re.error, TypeError, RecursionError):
        return False


def to_bool(value: Any) -> bool | None:
    """kz_term:is_true/is_false on request values: ``true``/``false`` strings or JSON booleans."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low == "true":
            return True
        if low == "false":
            return False
    return None


def get_in(node: Any, path: Sequence[str], default: Any = None) -> Any:
    """``node`` followed down ``path`` (object keys, or list indexes as digits); ``default`` if it stops."""
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return default
    return node
