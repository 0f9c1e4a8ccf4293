"""TwiML test kit: scripted TwiML servers, a live HTTP server, and one call through the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from pivot_apps import live_server  # noqa: F401  (re-exported for the TwiML tests)

from pivotsim._call import CallProperties
from pivotsim._caller import Caller
from pivotsim._engine import Engine, pivot_flow
from pivotsim._fixtures import Fixtures
from pivotsim._options import Options
from pivotsim._transcript import Transcript
from pivotsim._transports import BaseTransport, WSGITransport

BASE = "http://ivr.example"
_VALIDATOR: Any = None


def validator() -> Any:
    """One FlowValidator for the whole test run (compiling the schemas takes a moment)."""
    global _VALIDATOR
    if _VALIDATOR is None:
        from pivotsim._schemas import FlowValidator

        _VALIDATOR = FlowValidator()
    return _VALIDATOR


def doc(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Response>{body}</Response>'


def xml(body: str, *, status: int = 200, content_type: str = "text/xml", wrap: bool = True) -> Response:
    return Response(doc(body) if wrap else body, status=status, content_type=content_type)


def seen_request() -> dict[str, Any]:
    return {
        "path": request.path,
        "method": request.method,
        "args": request.args.to_dict(),
        "form": request.form.to_dict(),
        "values": request.values.to_dict(),
        "json": request.get_json(silent=True),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": request.get_data(as_text=True),
    }


Route = Any  # str (the inside of <Response>), a Response, a dict (JSON), or fn(seen) -> any of those


def twiml_app(routes: dict[str, Route], name: str = "twiml") -> Flask:
    """A Flask app answering ``routes`` (path -> reply); ``app.seen`` lists what it received.

    PUT requests (recording uploads) are answered 201 when the path is not routed.
    Anything else unrouted is a 404, as Flask would answer.
    """
    app = Flask(name)
    app.seen = []  # type: ignore[attr-defined]

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT"])
    @app.route("/<path:path>", methods=["GET", "POST", "PUT"])
    def catch_all(path: str) -> Any:
        seen = seen_request()
        app.seen.append(seen)  # type: ignore[attr-defined]
        route = routes.get(request.path)
        if route is None:
            if request.method == "PUT":
                return Response("", status=201)
            return Response("not found", status=404, content_type="text/plain")
        out = route(seen) if callable(route) and not isinstance(route, Response) else route
        if isinstance(out, str):
            return xml(out)
        if isinstance(out, dict):
            import json

            return Response(json.dumps(out), content_type="application/json")
        return out

    return app


def place(
    target: Flask | BaseTransport,
    url: str = f"{BASE}/ivr/welcome.xml",
    *,
    caller: Caller | list[Any] | tuple[Any, ...] = (),
    req_format: str | None = "twiml",
    method: str = "get",
    fixtures: Fixtures | None = None,
    options: Options | None = None,
    flow: dict[str, Any] | None = None,
    call: CallProperties | None = None,
    **pivot_data: Any,
) -> Transcript:
    """One call whose only node is a pivot to ``url`` (or ``flow``), in-process for a Flask app."""
    transport = target if isinstance(target, BaseTransport) else WSGITransport(target)
    engine = Engine(transport, validator=validator(), options=options)
    flow = flow or pivot_flow(url, method=method, req_format=req_format, **pivot_data)
    if not isinstance(caller, Caller):
        caller = Caller(list(caller))
    return engine.run(flow, caller=caller, fixtures=fixtures, call=call)


def codes(t: Transcript) -> list[str]:
    return [d.code for d in t.diagnostics]


def diag(t: Transcript, code: str) -> str:
    """The message of the first diagnostic with ``code`` (fails the test if there is none)."""
    for d in t.diagnostics:
        if d.code == code:
            return d.message
    raise AssertionError(f"no diagnostic {code!r}; got {codes(t)}")


def events(t: Transcript, kind: str) -> list[dict[str, Any]]:
    return [{"t_ms": e.t_ms, **e.details} for e in t.events if e.type == kind]


def params(t: Transcript, index: int) -> dict[str, str]:
    rec = t.requests[index]
    if rec.json is not None:
        return dict(rec.json)
    return dict(rec.params or [])


Handler = Callable[[dict[str, Any]], Any]
