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
    assert t.prompts == [] and t.end.detail.startswith("Kazoo hung up")  # not the _ child


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
    assert t.prompts == [] and t.end.detail.startswith("Kazoo hung up")


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


# What Python's json accepts but Kazoo's jiffy rejects takes Kazoo's invalid-JSON path.

def test_a_lone_surrogate_escape_is_invalid_json_as_in_jiffy() -> None:
    t = run(replies(Response('{"module": "tts", "data": {"text": "hi \\ud800"}}', content_type="application/json")))
    assert t.end.reason == "hangup"
    [diag] = [d for d in t.diagnostics if d.code == "reply.json_error"]
    assert "surrogate \\ud800" in diag.message
    assert t.requests[0].json_errors


def test_a_lone_surrogate_in_a_key_is_invalid_json_too() -> None:
    t = run(replies(Response('{"module": "tts", "data": {"text": "hi", "\\udc00": 1}}', content_type="text/html")))
    assert t.end.reason == "hangup"
    assert "reply.json_error" in t.diagnostic_codes()


def test_a_surrogate_pair_is_a_character_not_an_error() -> None:
    t = run(replies(Response('{"module": "tts", "data": {"text": "hi \\ud83d\\ude00"}}', content_type="application/json")))
    assert "reply.json_error" not in t.diagnostic_codes()
    assert t.prompts == ["hi \U0001f600"]


def test_nan_is_not_json_to_kazoo() -> None:
    t = run(replies(Response('{"module": "sleep", "data": {"duration": NaN}}', content_type="application/json")))
    assert t.end.reason == "hangup"
    assert "reply.json_error" in t.diagnostic_codes()


def test_control_characters_from_a_server_are_escaped_in_the_text_rendering() -> None:
    t = run(replies(Response('{"module": "tts", "data": {"text": "\\u001b[2J\\u001b]0;owned\\u0007hi"}}',
                             content_type="application/json")))
    assert t.prompts == ["\x1b[2J\x1b]0;owned\x07hi"]  # the transcript keeps what was sent
    text = pivotsim.render_text(t, verbose=True)
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J\\x1b]0;owned\\x07hi" in text


def test_cli_arguments_that_are_not_utf8_are_a_usage_error(capsys) -> None:
    from pivotsim.cli import main

    bad = os.fsdecode(b"k=a\xffb")
    assert main(["call", "pivotsim.examples.bank:app", "--cav", bad]) == 2
    err = capsys.readouterr().err
    assert "'k=a\\xffb' is not valid UTF-8" in err and "Traceback" not in err


# A body over pivotsim's size cap is refused the way Kazoo refuses a body it cannot read,
# not mistaken for a server that never answered.

def _big(content_type: str | None):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", content_type)] if content_type else [])
        return [b'{"module": "tts", "data": {"text": "', b"x" * 5000, b'"}}']

    return app


def test_a_json_body_over_the_cap_hangs_up_as_unreadable() -> None:
    engine = pivotsim.Engine(pivotsim.WSGITransport(_big("application/json"), max_body_bytes=1000))
    t = engine.run(pivotsim.pivot_flow("http://pivot.example/", children={"_": FAILURE}))
    assert t.end.reason == "hangup" and t.end.t_ms == 0  # no 10 s wait, no _ child
    [diag] = [d for d in t.diagnostics if d.code == "reply.json_error"]
    assert "pivotsim stops reading" in diag.message
    assert t.requests[0].status == 200


def test_an_xml_body_over_the_cap_over_http_is_not_a_twiml_document(serve) -> None:
    with serve(_big(None)) as base:
        engine = pivotsim.Engine(pivotsim.HTTPTransport(max_body_bytes=1000))
        t = engine.run(pivotsim.pivot_flow(base + "/", children={"_": FAILURE}))
    assert t.end.reason == "hangup"
    assert "reply.not_recognized" in t.diagnostic_codes()
    assert "reply.no_reply" not in t.diagnostic_codes()
