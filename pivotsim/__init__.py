"""pivotsim: a faithful offline Kazoo for testing Pivot servers.

Place a call against your Pivot server and read what a real Kazoo would do::

    import pivotsim
    t = pivotsim.place_call("myapp:app", caller=["1234", "1"])
    assert t.end.reason == "hangup"
    print(pivotsim.render_text(t))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ._call import CallProperties
from ._caller import Caller, Hangup, Press, Silence, TypeAhead
from ._engine import Engine, pivot_flow
from ._fixtures import BridgeOutcome, Fixtures
from ._options import Options
from ._render import render_text
from ._targets import TargetError, resolve_target
from ._transcript import END_REASONS, Diagnostic, End, Event, RequestRecord, Transcript
from ._transports import (
    BaseTransport,
    CallableTransport,
    HTTPRequest,
    HTTPResponse,
    HTTPTransport,
    TransportError,
    WSGITransport,
)

__version__ = "0.1.0"


def make_validator(*, kazoo_schemas: str | None = None, strict_blacklist: bool = False) -> Any:
    """The reply validator: pivotsim's schemas, or a Kazoo checkout's for exact parity."""
    from ._schemas import FlowValidator

    return FlowValidator(kazoo_schemas=kazoo_schemas, strict_blacklist=strict_blacklist)


def place_call(
    target: Any,
    *,
    voice_url: str | None = None,
    method: str = "get",
    req_format: str = "kazoo",
    req_body_format: str | None = None,
    req_timeout_ms: int | None = None,
    cdr_url: str | None = None,
    debug: bool | None = None,
    call: CallProperties | None = None,
    caller: Caller | Sequence[Any] | None = None,
    fixtures: Fixtures | dict[str, Any] | None = None,
    options: Options | None = None,
    connect_to: Iterable[str] = (),
    kazoo_schemas: str | None = None,
) -> Transcript:
    """Place one call to ``target`` through a pivot node and return its transcript.

    ``target`` is a URL, ``"module:attr"`` naming a WSGI app, a WSGI app, a
    transport, or a callable ``fn(HTTPRequest)``. The pivot node is the one a
    callflow saved through Crossbar would hold (``req_format`` defaults to kazoo).
    """
    url, transport = resolve_target(target, voice_url=voice_url, connect_to=connect_to)
    options = options or Options()
    engine = Engine(
        transport,
        validator=make_validator(kazoo_schemas=kazoo_schemas, strict_blacklist=options.strict_blacklist),
        options=options,
    )
    flow = pivot_flow(url, method=method, req_format=req_format, req_body_format=req_body_format,
                      req_timeout_ms=req_timeout_ms, cdr_url=cdr_url, debug=debug)
    if caller is not None and not isinstance(caller, Caller):
        caller = Caller(caller)
    if isinstance(fixtures, dict):
        fixtures = Fixtures.from_dict(fixtures)
    try:
        return engine.run(flow, call=call, caller=caller, fixtures=fixtures)
    finally:
        transport.close()


__all__ = [
    "BaseTransport",
    "BridgeOutcome",
    "CallProperties",
    "CallableTransport",
    "Caller",
    "Diagnostic",
    "END_REASONS",
    "End",
    "Engine",
    "Event",
    "Fixtures",
    "HTTPRequest",
    "HTTPResponse",
    "HTTPTransport",
    "Hangup",
    "Options",
    "Press",
    "RequestRecord",
    "Silence",
    "TargetError",
    "Transcript",
    "TransportError",
    "TypeAhead",
    "WSGITransport",
    "make_validator",
    "pivot_flow",
    "place_call",
    "render_text",
    "resolve_target",
]
