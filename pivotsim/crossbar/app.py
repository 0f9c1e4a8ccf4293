"""The Flask app: one catch-all view that hands raw HTTP to the Crossbar and writes its Reply.

Flask's own routing errors (an unregistered method) are sent through the same path,
so even those answer Kazoo's envelope. Slashes are not merged: ``/accounts//x`` must
reach the fake as written, to get Kazoo's "missing account_id".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .api import Crossbar
from .calls import EngineFactory
from .errors import MAX_UPLOAD_SIZE
from .request import HTTPInput
from .util import Clock

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]


def http_input() -> HTTPInput:
    """The current Flask request as the domain code's HTTPInput (body capped at 8 MB + 1)."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if "://" in path:  # an absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
    else:
        path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~")
    body = request.stream.read(MAX_UPLOAD_SIZE + 1) if environ.get("CONTENT_LENGTH") or environ.get("HTTP_TRANSFER_ENCODING") else b""
    return HTTPInput(
        method=request.method,
        path=path,
        query_string=environ.get("QUERY_STRING", ""),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body[:MAX_UPLOAD_SIZE + 1],
        remote_addr=request.remote_addr or "",
        body_too_large=len(body) > MAX_UPLOAD_SIZE,
    )


def _respond(cb: Crossbar) -> Response:
    reply = cb.handle(http_input())
    resp = Response(reply.body, status=reply.status, headers=reply.headers)
    if reply.content_type:
        resp.headers["Content-Type"] = reply.content_type
    else:
        del resp.headers["Content-Type"]
    return resp


def create_app(
    state: str | None = None,
    *,
    engine_factory: EngineFactory | None = None,
    seed: dict[str, Any] | None = None,
    clock: Clock | None = None,
    token_ttl: int = 3600,
    blacklist_strict: bool = False,
    background_calls: bool = False,
) -> Flask:
    """A fake Kazoo Crossbar as a Flask app; the Crossbar is ``app.extensions["pivotsim_crossbar"]``.

    ``state`` is an SQLite file for durable state (None keeps everything in memory);
    ``engine_factory`` returns the engine that simulates calls placed by ``connect``
    (default: real HTTP to the ``voice_url``); ``clock`` returns Unix seconds (tokens
    expire on it); ``blacklist_strict`` rejects localhost ``voice_url``s as stock Kazoo
    does; ``background_calls`` answers ``connect`` before the call runs, as Kazoo does
    (the default runs it first, which makes tests deterministic).
    """
    cb = Crossbar(
        state,
        engine_factory=engine_factory,
        seed=seed,
        clock=clock,
        token_ttl=token_ttl,
        blacklist_strict=blacklist_strict,
        background_calls=background_calls,
    )
    app = Flask("pivotsim.crossbar")
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.extensions["pivotsim_crossbar"] = cb

    def crossbar_view(path: str = "") -> Response:
        return _respond(cb)

    app.add_url_rule("/", "crossbar_root", crossbar_view, methods=METHODS, provide_automatic_options=False)
    app.add_url_rule(
        "/<path:path>", "crossbar", crossbar_view, methods=METHODS, provide_automatic_options=False, merge_slashes=False
    )

    def routing_error(exc: HTTPException) -> Response:
        return _respond(cb)

    app.register_error_handler(HTTPException, routing_error)
    return app


def crossbar_of(app: Flask) -> Crossbar:
    """The Crossbar behind an app made by :func:`create_app`."""
    cb = app.extensions["pivotsim_crossbar"]
    assert isinstance(cb, Crossbar)
    return cb
