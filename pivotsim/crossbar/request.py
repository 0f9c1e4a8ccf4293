"""Turning raw HTTP into Crossbar's request context, the way api_util does it.

Body parsing happens first and decides the error a bad request gets: malformed JSON and
a missing ``data`` are 400 before any auth check. Content types follow get_req_data,
including curl's ``-d`` quirk (form-encoded header, JSON body).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import unquote, unquote_plus

from .. import _jiffy
from .._jiffy import JiffyError
from . import errors
from .errors import MAX_UPLOAD_SIZE, CrossbarError

#: Content types a PUT, POST or PATCH may carry (crossbar.hrl ?CONTENT_ACCEPTED).
ACCEPTED_CONTENT_TYPES = frozenset(
    {
        "application/json",
        "application/x-json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/mixed",
        "application/octet-stream",
        "text/csv",
    }
)

_JSON_TYPES = frozenset({"application/json", "application/x-json"})


@dataclass
class HTTPInput:
    """What the WSGI layer hands the domain code: no Flask objects past this point."""

    method: str
    path: str  # still percent-encoded, as sent
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""
    remote_addr: str = "127.0.0.1"
    body_too_large: bool = False


class RequestContext:
    """cb_context for one request: parsed envelope, auth, and what the response needs."""

    __slots__ = (
        "method",
        "verb",
        "tokens_path",
        "query",
        "headers",
        "envelope",
        "data",
        "content_type",
        "request_id",
        "token",
        "claims",
        "issued_token",
        "now",
        "cors",
        "pretty",
        "jsonp",
        "remote_addr",
        "files",
        "bucket",
        "allowed",
    )

    def __init__(self, http: HTTPInput, request_id: str, now: float) -> None:
        self.method = http.method.upper()
        self.verb = self.method
        self.tokens_path: list[str] = []
        self.query: dict[str, Any] = parse_query(http.query_string)
        self.headers = http.headers
        self.envelope: dict[str, Any] = {}
        self.data: Any = {}
        self.content_type: str | None = None
        self.request_id = request_id
        self.token: str | None = None
        self.claims: dict[str, Any] | None = None
        self.issued_token: str | None = None
        self.now = now
        h = http.headers
        self.cors = (
            "origin" in h
            or "access-control-request-method" in h
            or "access-control-request-headers" in h
        )
        self.pretty = (h.get("x-pretty-print", "").lower() == "true") or (
            str(self.query.get("pretty_print", "")).lower() == "true"
        )
        jsonp = self.query.get("jsonp")
        self.jsonp = jsonp if isinstance(jsonp, str) and _JSONP_NAME.match(jsonp) else None
        self.remote_addr = http.remote_addr
        self.files: list[bytes] = []
        self.bucket: tuple[int, int] | None = None
        self.allowed: list[str] = []  # the path's methods, once known (for CORS headers)

    @property
    def authenticated(self) -> bool:
        return self.claims is not None

    @property
    def auth_account_id(self) -> str | None:
        return self.claims.get("account_id") if self.claims else None

    @property
    def auth_owner_id(self) -> str | None:
        return self.claims.get("owner_id") if self.claims else None

    def req_value(self, key: str, default: Any = None) -> Any:
        """cb_context:req_value: ``data`` first, then the query string, then the envelope."""
        data = self.data
        if isinstance(data, dict) and key in data:
            return data[key]
        if key in self.query:
            return self.query[key]
        if key in self.envelope:
            return self.envelope[key]
        return default

    def envelope_token(self) -> str | None:
        """The token a response envelope echoes: the one issued by this request, else the one used."""
        return self.issued_token or self.token


_JSONP_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]*$")


def parse_query(qs: str) -> dict[str, Any]:
    """cowboy_req:parse_qs into a kz_json object: a bare key is ``true``, the first value wins."""
    out: dict[str, Any] = {}
    if not qs:
        return out
    for part in qs.split("&"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        k = unquote_plus(key)
        if k in out:
            continue
        out[k] = unquote_plus(value) if eq else True
    return out


def content_type_of(headers: dict[str, str]) -> str | None:
    raw = headers.get("content-type")
    if raw is None:
        return None
    main = raw.split(";", 1)[0].strip().lower()
    return main or None


def parse_body(ctx: RequestContext, http: HTTPInput) -> None:
    """Fill ``ctx.envelope``/``ctx.data`` from the body, or raise Kazoo's 400."""
    if http.body_too_large or len(http.body) > MAX_UPLOAD_SIZE:
        raise errors.too_large()
    ctype = content_type_of(http.headers)
    ctx.content_type = ctype
    body = http.body
    if ctype is None or ctype in _JSON_TYPES:
        _set_envelope(ctx, _decode_json(body))
    elif ctype == "application/x-www-form-urlencoded":
        _form_or_json(ctx, body)
    elif ctype.startswith("multipart/"):
        _multipart(ctx, http, body)
    elif ctype in ("application/base64", "application/x-base64"):
        try:
            ctx.files.append(_decode_base64(body))
        except (binascii.Error, ValueError):
            raise errors.single_validation(
                "file", "encoding", {"message": "failed to decode base64 data"}
            ) from None
        _set_envelope(ctx, None)
    else:
        # Any other type is a raw file upload (media); the JSON request data stays empty.
        ctx.files.append(body)
        _set_envelope(ctx, None)


def _decode_base64(body: bytes) -> bytes:
    text = body.strip()
    if text.startswith(b"data:"):
        text = text.split(b",", 1)[-1]
    return base64.b64decode(text, validate=True)


def _form_or_json(ctx: RequestContext, body: bytes) -> None:
    """curl's default: parse as a form; one bare key means the whole body was JSON."""
    try:
        pairs = _parse_form(body)
    except ValueError:
        _set_envelope(ctx, _decode_json(body))
        return
    if len(pairs) == 1 and pairs[0][1] is True:
        _set_envelope(ctx, _decode_json(body))
        return
    form: dict[str, Any] = {}
    for k, v in pairs:
        form.setdefault(k, v)
    _set_envelope(ctx, form)


def _parse_form(body: bytes) -> list[tuple[str, Any]]:
    """cow_qs:parse_qs: strict about percent escapes (a bad one makes Kazoo try JSON instead)."""
    text = body.decode("utf-8", errors="strict") if body else ""
    out: list[tuple[str, Any]] = []
    if not text:
        return out
    for part in text.split("&"):
        key, eq, value = part.partition("=")
        for piece in (key, value):
            if re.search(r"%(?![0-9A-Fa-f]{2})", piece):
                raise ValueError("bad percent escape")
        out.append((unquote_plus(key), unquote_plus(value) if eq else True))
    return out


def _multipart(ctx: RequestContext, http: HTTPInput, body: bytes) -> None:
    """A JSON part becomes the request; other parts are files. Unparseable: try form/JSON."""
    raw_ct = http.headers.get("content-type", "")
    try:
        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + raw_ct.encode("latin-1") + b"\r\n\r\n" + body
        )
        if not msg.is_multipart():
            raise ValueError("not multipart")
        envelope: Any = None
        for part in msg.iter_parts():
            pct = part.get_content_type()
            raw_payload = part.get_payload(decode=True)
            payload = raw_payload if isinstance(raw_payload, bytes) else b""
            if pct in _JSON_TYPES:
                envelope = _decode_json(payload)
            else:
                ctx.files.append(payload)
    except CrossbarError:
        raise
    except Exception:  # noqa: BLE001 - any parser failure falls back, as Kazoo does
        _form_or_json(ctx, body)
        return
    _set_envelope(ctx, envelope)


def _decode_json(body: bytes) -> Any:
    """None for an empty body; Kazoo's ``json.invalid`` for bytes jiffy would refuse."""
    if not body or not body.strip():
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.invalid_json(f"invalid_string around {exc.start + 1}") from None
    try:
        return _jiffy.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.invalid_json(_jiffy_message(exc, text)) from None
    except JiffyError as exc:
        where = len(text[:exc.offset].encode()) + 1 if exc.offset is not None else len(body)
        kind = "invalid_string" if exc.offset is not None else "invalid_json"
        raise errors.invalid_json(f"{kind} around {where}") from None
    except (ValueError, RecursionError):
        raise errors.invalid_json(f"invalid_json around {len(body)}") from None


def _jiffy_message(exc: json.JSONDecodeError, text: str) -> str:
    """jiffy's error atom and 1-based position, e.g. ``invalid_trailing_data around 12``."""
    pos = exc.pos + 1
    if exc.msg.startswith("Extra data"):
        kind = "invalid_trailing_data"
    elif exc.pos >= len(text.rstrip()):
        kind = "truncated_json"
    elif "string" in exc.msg or "control character" in exc.msg or "escape" in exc.msg:
        kind = "invalid_string"
    else:
        kind = "invalid_json"
    return f"{kind} around {pos}"


def _set_envelope(ctx: RequestContext, value: Any) -> None:
    """Normalise envelope keys and require ``data`` (draft-3 ``required``) on a non-empty body."""
    if value is None:
        ctx.envelope = {}
        ctx.data = {}
        return
    if not isinstance(value, dict):
        # Kazoo's envelope normaliser crashes on a non-object and answers its default message.
        raise errors.invalid_json("All JSON must be valid")
    envelope: dict[str, Any] = {}
    for key, val in value.items():
        envelope[key.lower().replace("-", "_")] = val
    if "data" not in envelope:
        raise errors.single_validation(
            "data", "required", {"message": "Field is required but missing", "value": envelope}
        )
    data = envelope["data"]
    if not isinstance(data, (dict, list)):
        raise errors.single_validation(
            "data",
            "type",
            {
                "message": "Value did not match type(s): object, array",
                "target": "object, array",
                "value": data,
            },
        )
    ctx.envelope = envelope
    ctx.data = data


def split_path(path: str) -> list[str]:
    """Path segments, each percent-decoded after splitting (so ``%2F`` stays inside a segment)."""
    return [unquote(seg) for seg in path.split("/")]
