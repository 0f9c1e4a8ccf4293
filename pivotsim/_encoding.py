"""Kazoo's wire encodings for Pivot requests (kz_http_util:json_to_querystring, legacy mode)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

__all__ = ["form_encode", "form_decode", "json_encode", "NullValueError"]

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-")
_BYTE = [chr(b) if b in _SAFE else "%%%02X" % b for b in range(256)]
_BYTE[0x20] = "+"


class NullValueError(ValueError):
    """Kazoo's form encoder has no clause for JSON null: the request is never sent."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _quote(value: str) -> str:
    if value.isascii() and value.isalnum():
        return value
    return "".join([_BYTE[b] for b in value.encode("utf-8")])


def _scalar(value: Any, key: str) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        raise NullValueError(key)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


def _pairs(key: str, value: Any, out: list[str], pairs: list[list[str]] | None) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("")  # Kazoo emits an empty segment for {}: the famous "&&"
            return
        for k, v in value.items():
            _pairs(f"{key}[{k}]", v, out, pairs)
    elif isinstance(value, list):
        for v in value:
            _pairs(f"{key}[]", v, out, pairs)
    else:
        text = _scalar(value, key)
        out.append(f"{key}={_quote(text)}")
        if pairs is not None:
            pairs.append([key, text])


def form_encode(params: dict[str, Any], pairs: list[list[str]] | None = None) -> str:
    """Encode as Kazoo does: keys raw, ``+`` for spaces, ``A[b]=v``, ``K[]=v``, ``&&`` for ``{}``.

    When ``pairs`` is given it receives the ``[key, value]`` pairs a server decodes,
    which saves parsing the result again.
    """
    out: list[str] = []
    for k, v in params.items():
        _pairs(k, v, out, pairs)
    return "&".join(out)


def form_decode(qs: str) -> list[list[str]]:
    """Ordered ``[key, value]`` pairs as a server's parser sees them; empty segments vanish."""
    pairs: list[list[str]] = []
    for seg in qs.split("&"):
        if not seg:
            continue
        k, _, v = seg.partition("=")
        pairs.append([unquote_plus(k), unquote_plus(v)])
    return pairs


def json_encode(params: dict[str, Any]) -> str:
    return json.dumps(params, separators=(",", ":"), ensure_ascii=False)
