"""Hostile replies end with a diagnostic, never a traceback (issue 2, done-when)."""

from __future__ import annotations

import os
import threading

from flask import Response
from pivot_apps import HANGUP, replies, scripted_app, tts

import pivotsim

FAILURE = tts("failure branch", HANGUP)


def run(app, **kw):
    return pivotsim.Engine(pivotsim.WSGITransport(app)).run(
        pivotsim.pivot_flow("http://pivot.example/", children={"_": FAILURE}, **kw))


def test_garbage_bytes() -> None:
    t = run(replies(Response(os.urandom(4096), content_type="application/json")))
    assert t.end.reason == "hangup"
    assert "reply.json_error" in t.diagnostic_codes()


def test_ten_megabyte_body_is_handled_and_truncated_in_the_transcript() -> None:
    body = '{"module": "tts", "data": {"text": "' + "x" * (10 * 1024 * 1024) + '"}}'
    t = run(replies(Response(body, content_type="application/json")))
    assert t.end.reason == "dead_air"  # text is over 1000 characters
    rec = t.requests[0]
    assert rec.body_bytes > 10 * 1024 * 1024
    assert rec.body_truncated and len(rec.body) == 65_536


def test_invalid_utf8() -> None:
    t = run(replies(Response(b'{"module": "tts", "data": {"text": "caf\xe9"}}', content_type="application/json")))
    assert t.end.reason == "hangup"
    assert any("UTF-8" in d.message for d in t.diagnostics)


def test_invalid_utf8_without_content_type() -> None:
    def bare(environ, start_response):
        start_response("200 OK", [])
        return [b"\xff\xfe<Response/>"]

    t = run(bare)
    assert t.end.reason == "hangup"


def test_a_server_that_never_answers(serve) -> None:
    release = threading.Event()

    def stuck(seen):
        release.wait(5)
        return tts("too late")

    with serve(scripted_app(stuck)) as base:
        engine = pivotsim.Engine(pivotsim.HTTPTransport())
        t = engine.run(pivotsim.pivot_flow(base + "/", req_timeout_ms=200, children={"_": FAILURE}))
        release.set()
    assert t.requests[0].error.startswith("timeout")
    assert t.prompts == ["failure branch"]


def test_json_that_is_not_an_object() -> None:
    for body in ("[]", "42", '"tts"', "null"):
        t = run(replies(Response(body, content_type="application/json")))
        assert t.end.reason == "dead_air", body
        assert t.diagnostics


def test_deeply_nested_reply() -> None:
    depth = 5000  # deeper than Python's recursion limit, on every version
    body = '{"module": "noop", "children": {"_": ' * depth + '{"module": "hangup"}' + "}}" * depth
    t = run(replies(Response(body, content_type="application/json")))
    assert t.end.reason == "error"
    assert "pivotsim.too_deep" in t.diagnostic_codes()
    shallow: dict = HANGUP
    for _ in range(60):
        shallow = {"module": "noop", "children": {"_": shallow}}
    assert run(replies(shallow)).end.reason == "hangup"


def test_a_server_that_returns_a_huge_status() -> None:
    t = run(replies(Response("{}", status=700, content_type="application/json")))
    assert t.prompts == ["failure branch"]
    assert t.events_of("prompt")[0].t_ms == 10_000
