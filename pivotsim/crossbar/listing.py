"""List queries: ``filter_*`` and friends, time ranges, and Kazoo's key-based pagination."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any

from . import errors
from .request import RequestContext
from .util import get_in, gregorian, to_bool

DEFAULT_PAGE_SIZE = 50
#: crossbar.maximum_range: 31 days plus an hour, in seconds.
MAX_RANGE = 31 * 86400 + 3600

_MISSING = object()


def _get_path(doc: dict[str, Any], dotted: str) -> Any:
    return get_in(doc, dotted.split("."), _MISSING)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _matches(value: Any, wanted: Any) -> bool:
    """A string compares as text; a JSON-array value means membership (crossbar_filter)."""
    if value is _MISSING:
        return False
    if isinstance(wanted, str) and wanted.startswith("["):
        try:
            options = json.loads(wanted)
        except ValueError:
            options = None
        if isinstance(options, list):
            return any(_as_text(value) == _as_text(o) for o in options)
    return _as_text(value) == _as_text(wanted)


def _is_empty(value: Any) -> bool:
    return value is _MISSING or value in ("", None) or value == [] or value == {}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


Predicate = Callable[[dict[str, Any]], bool]


def _path_matches(path: str, wanted: Any, negate: bool) -> Predicate:
    return lambda d: _matches(_get_path(d, path), wanted) != negate


def _presence(path: str, present: bool) -> Predicate:
    return lambda d: (_get_path(d, path) is not _MISSING) == present


def _valued(path: str, valued: bool) -> Predicate:
    return lambda d: (not _is_empty(_get_path(d, path))) == valued


def _bound(field: str, bound: int, lower: bool) -> Predicate:
    if lower:
        return lambda d: _as_int(d.get(field)) >= bound
    return lambda d: _as_int(d.get(field)) <= bound


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def build_filter(query: dict[str, Any], *, time_keys: bool = True) -> Predicate | None:
    """A predicate over full documents from the query string, or None when there is none."""
    checks: list[Predicate] = []
    for key, wanted in query.items():
        if key.startswith("filter_not_"):
            checks.append(_path_matches(key[len("filter_not_") :], wanted, True))
        elif key.startswith("filter_"):
            checks.append(_path_matches(key[len("filter_") :], wanted, False))
        elif key in ("has_key", "key_missing") and isinstance(wanted, str):
            checks.append(_presence(wanted, key == "has_key"))
        elif key in ("has_value", "value_missing") and isinstance(wanted, str):
            checks.append(_valued(wanted, key == "has_value"))
        elif time_keys and key in ("created_from", "created_to", "modified_from", "modified_to"):
            bound = _int(wanted)
            if bound is not None:
                field = "pvt_created" if key.startswith("created") else "pvt_modified"
                checks.append(_bound(field, bound, key.endswith("_from")))
    if not checks:
        return None
    return lambda doc: all(c(doc) for c in checks)


def time_range(ctx: RequestContext) -> tuple[int, int]:
    """``created_from``/``created_to`` in Gregorian seconds, with Kazoo's date_range errors."""
    now = gregorian(ctx.now)
    to = _int(ctx.req_value("created_to"))
    to = to if to is not None and to > 0 else now
    frm = _int(ctx.req_value("created_from"))
    frm = frm if frm is not None and frm > 0 else to - MAX_RANGE
    if to - frm < 0:
        msg = f"created_to {to} is prior to created_from {frm}"
        raise errors.single_validation("created_from", "date_range", {"message": msg, "cause": frm})
    if to - frm > MAX_RANGE:
        msg = f"created_to {to} is more than {MAX_RANGE} seconds from created_from {frm}"
        raise errors.single_validation("created_from", "date_range", {"message": msg, "cause": to})
    return frm, to


def encode_key(key: Any) -> str:
    """``next_start_key``: opaque to clients, as Kazoo's base64url-encoded keys are."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_key(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return raw


def descending(ctx: RequestContext) -> bool:
    return to_bool(ctx.query.get("descending")) is True or to_bool(ctx.query.get("ascending")) is False


def _sort_key(key: Any) -> tuple[int, str]:
    # Keys are compared as their JSON text; mixed types never reach one list.
    return (0, json.dumps(key, sort_keys=True)) if not isinstance(key, str) else (1, key)


def paginate(
    ctx: RequestContext, rows: Iterable[tuple[Any, dict[str, Any]]], *, desc: bool | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Sort rows by view key, apply ``start_key``/``page_size``; return rows and envelope keys."""
    rev = descending(ctx) if desc is None else desc
    ordered = sorted(rows, key=lambda kv: _sort_key(kv[0]), reverse=rev)
    if to_bool(ctx.req_value("paginate")) is False:
        return [r for _, r in ordered], {}
    raw_size = ctx.req_value("page_size")
    if raw_size is None:
        size = DEFAULT_PAGE_SIZE
    else:
        try:
            size = int(raw_size) if not isinstance(raw_size, bool) else int("x")
        except (TypeError, ValueError):
            raise errors.faulty_request("invalid page size") from None
        if size < 1:
            raise errors.faulty_request("page size must be at least 1")
    extra: dict[str, Any] = {}
    start_raw = ctx.req_value("start_key")
    if start_raw is not None:
        start = _sort_key(decode_key(start_raw))
        ordered = [kv for kv in ordered if (_sort_key(kv[0]) <= start if rev else _sort_key(kv[0]) >= start)]
        extra["start_key"] = start_raw
    page = ordered[:size]
    extra["page_size"] = len(page)
    if len(ordered) > size:
        extra["next_start_key"] = encode_key(ordered[size][0])
    return [r for _, r in page], extra
