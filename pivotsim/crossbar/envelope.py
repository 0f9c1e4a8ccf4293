"""Crossbar's response envelope, rendered once here for success and error alike.

Kazoo leaves out every key whose value is undefined: no token means no ``auth_token``,
an unauthenticated request has no ``version``, errors never carry ``revision``.
Every response carries ``x-request-id``; CORS requests and all errors get the CORS headers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import CrossbarError
from .request import RequestContext
from .util import iso_timestamp

KAZOO_VERSION = "5.0.0"
NODE_NAME = "pivotsim@localhost"
#: base64url(md5(node name)) without padding: 22 characters, as Kazoo's ``node``.
NODE = base64.urlsafe_b64encode(hashlib.md5(NODE_NAME.encode()).digest()).decode().rstrip("=")

CORS_ALLOW_HEADERS = (
    "content-type, depth, user-agent, x-http-method-override, x-file-size, x-requested-with, "
    "if-modified-since, x-file-name, cache-control, x-auth-token, x-kazoo-cluster-id, if-match"
)
CORS_EXPOSE_HEADERS = (
    "content-type, x-auth-token, x-request-id, x-kazoo-cluster-id, location, etag, etag"
)

_dumps_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_dumps_pretty = json.JSONEncoder(ensure_ascii=False, indent=2).encode


@dataclass
class Reply:
    """A finished HTTP response: what the WSGI adapter writes, nothing more."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = "application/json"

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def cors_headers(methods: list[str], requested: str = "") -> list[tuple[str, str]]:
    """api_util get_cors_headers: the same set on a preflight, a CORS request and every error.

    ``access-control-allow-methods`` is ``OPTIONS`` plus the path's allowed methods (none
    yet when the request failed before routing), plus the requested method if it is not
    listed (crossbar-facts 1.10).
    """
    allow = ["OPTIONS", *methods]
    wanted = requested.upper()
    if wanted and wanted not in allow:
        allow.append(wanted)
    return [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", ", ".join(allow)),
        ("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS),
        ("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS),
        ("Access-Control-Max-Age", "86400"),
    ]


def ctx_cors_headers(ctx: RequestContext) -> list[tuple[str, str]]:
    return cors_headers(ctx.allowed, ctx.headers.get("access-control-request-method", ""))


def _base(ctx: RequestContext) -> dict[str, Any]:
    env: dict[str, Any] = {}
    token = ctx.envelope_token()
    if token:
        env["auth_token"] = token
    env["node"] = NODE
    env["request_id"] = ctx.request_id
    env["timestamp"] = iso_timestamp(ctx.now)
    if ctx.bucket is not None:
        env["tokens"] = {"consumed": ctx.bucket[0], "remaining": ctx.bucket[1]}
    if ctx.authenticated:
        env["version"] = KAZOO_VERSION
    return env


def _utf8(text: str) -> bytes:
    """UTF-8 that cannot fail: a lone surrogate (only ever inside a JSON string) becomes its ``\\uXXXX`` escape.

    parse_body refuses such strings, but a document that got one some other way must
    still render rather than turn every answer carrying it into a 500.
    """
    return text.encode("utf-8", "backslashreplace")


def _render(ctx: RequestContext, env: dict[str, Any]) -> tuple[bytes, str]:
    text = _dumps_pretty(env) if ctx.pretty else _dumps_compact(env)
    if ctx.jsonp:
        return _utf8(f"{ctx.jsonp}({text});"), "application/javascript"
    return _utf8(text), "application/json"


def success(
    ctx: RequestContext,
    data: Any,
    *,
    status: int = 200,
    revision: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: list[tuple[str, str]] | None = None,
    etag_list: bool = False,
) -> Reply:
    """``status: success``; ``revision`` is a doc's ``_rev`` or, for lists, an md5 of the data."""
    env = _base(ctx)
    env["data"] = data
    out_headers = list(headers or ())
    if etag_list and isinstance(data, list) and data:
        revision = hashlib.md5(_utf8(_dumps_compact(data))).hexdigest()
        out_headers.append(("ETag", f'"{revision}"'))
    if revision:
        env["revision"] = revision
    env["status"] = "success"
    if extra:
        env.update(extra)
    body, ctype = _render(ctx, env)
    out_headers.append(("X-Request-ID", ctx.request_id))
    if ctx.cors:
        out_headers.extend(ctx_cors_headers(ctx))
    return Reply(status, body, out_headers, ctype)


def error(ctx: RequestContext, err: CrossbarError) -> Reply:
    """``status: error`` with ``error`` as a string; CORS headers always (default_stop)."""
    out_headers = list(err.headers.items())
    out_headers.append(("X-Request-ID", ctx.request_id))
    out_headers.extend(ctx_cors_headers(ctx))
    if not err.body:
        return Reply(err.code, b"", out_headers, None)
    env = _base(ctx)
    env["data"] = err.data
    env["error"] = str(err.code)
    env["message"] = err.message
    env["status"] = "error"
    body, ctype = _render(ctx, env)
    return Reply(err.code, body, out_headers, ctype)
