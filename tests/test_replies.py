"""How Kazoo handles each kind of reply (contract §2, §9 items 1-12)."""

from __future__ import annotations

import json
import time

import pytest
from flask import Response
from pivot_apps import HANGUP, pivot, replies, scripted_app, tts

import pivotsim

FAILURE = tts("failure branch", HANGUP)


def first_pivot_flow(url: str = "http://pivot.example/start", **data):
    return pivotsim.pivot_flow(url, children={"_": FAILURE}, **data)


def run(app, flow=None, **kw):
    engine = pivotsim.Engine(pivotsim.WSGITransport(app), options=kw.pop("options", None))
    return engine.run(flow or first_pivot_flow(), **kw)


@pytest.mark.parametrize("status", [201, 202, 204, 302, 404, 500, 503])
def test_any_status_but_200_and_206_takes_the_default_child_at_once(status) -> None:
    t = run(replies(Response("{}", status=status, content_type="application/json")))
    assert t.prompts == ["failure branch"]
    assert t.events_of("prompt")[0].t_ms == 0
    assert "reply.http_status" in t.diagnostic_codes()
    assert t.requests[0].status == status


def test_206_counts_as_success() -> None:
    t = run(replies(Response(json.dumps(tts("partial")), status=206, content_type="application/json")))
    assert t.prompts == ["partial"]


def test_get_redirect_is_followed_like_httpc() -> None:
    def handler(seen):
        if seen["path"] == "/start":
            return Response("", status=302, headers={"Location": "/moved"})
        return tts("moved here")

    t = run(scripted_app(handler))
    assert t.prompts == ["moved here"]
    assert t.events_of("http_redirect")[0].details["status"] == 302


def test_post_302_is_not_followed() -> None:
    app = scripted_app(lambda s: Response("", status=302, headers={"Location": "/moved"}))
    t = run(app, first_pivot_flow(method="post"))
    assert len(app.seen) == 1
    assert t.prompts == ["failure branch"]


def test_timeout_waits_ten_seconds_of_silence_then_takes_default(serve) -> None:
    def slow(seen):
        time.sleep(0.3)
        return tts("too late")

    with serve(scripted_app(slow)) as base:
        engine = pivotsim.Engine(pivotsim.HTTPTransport())
        t = engine.run(pivotsim.pivot_flow(base + "/start", req_timeout_ms=100, children={"_": FAILURE}))
    assert t.requests[0].error.startswith("timeout")
    assert t.prompts == ["failure branch"]
    assert t.events_of("prompt")[0].t_ms == 10_000
    assert "reply.no_reply" in t.diagnostic_codes()


def test_connection_refused_waits_ten_seconds_then_takes_default() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    engine = pivotsim.Engine(pivotsim.HTTPTransport())
    t = engine.run(pivotsim.pivot_flow(f"http://127.0.0.1:{port}/x", children={"_": FAILURE}))
    assert t.requests[0].error.startswith("connect")
    assert t.events_of("prompt")[0].t_ms == 10_000


def test_dns_failure_waits_ten_seconds_then_takes_default() -> None:
    engine = pivotsim.Engine(pivotsim.HTTPTransport())
    t = engine.run(pivotsim.pivot_flow("http://no-such-host.invalid/x", children={"_": FAILURE}))
    assert t.requests[0].error.split(":")[0] in ("dns", "connect")
    assert t.events_of("prompt")[0].t_ms == 10_000


def test_empty_200_hangs_up_instead_of_taking_default() -> None:
    t = run(replies(Response("", status=200, content_type="application/json")))
    assert t.end.reason == "hangup"
    assert t.prompts == []
    assert "reply.empty" in t.diagnostic_codes()


def test_empty_200_with_cdr_url_takes_default_after_ten_seconds() -> None:
    t = run(replies(Response("", status=200)), first_pivot_flow(cdr_url="http://cdr.example/"))
    assert t.prompts == ["failure branch"]
    assert t.events_of("prompt")[0].t_ms == 10_000


def test_invalid_json_hangs_up_and_is_marked_for_the_debug_log() -> None:
    t = run(replies(Response("{not json", content_type="application/json")))
    assert t.end.reason == "hangup"
    assert t.prompts == []  # not the _ child ("failure branch")
    assert t.end.detail.startswith("Kazoo hung up: invalid JSON")
    assert t.requests[0].json_errors is True
    assert "reply.json_error" in t.diagnostic_codes()


def test_schema_invalid_reply_is_dead_air_with_the_path_explained() -> None:
    t = run(replies({"module": "response", "data": {"code": "486"}}))
    assert t.end.reason == "dead_air"
    err = [d for d in t.diagnostics if d.code.startswith("schema.")][0]
    assert err.path == "data.code"
    assert "integer" in err.message and "486" in err.message
    assert "data.code" in t.end.detail


def test_intended_mode_takes_default_on_schema_invalid_reply() -> None:
    t = run(replies({"module": "response", "data": {"code": "486"}}),
            options=pivotsim.Options(faithful=False))
    assert t.prompts == ["failure branch"]


def test_flow_wrapper_is_rejected_as_missing_module() -> None:
    t = run(replies({"flow": tts("wrapped")}))
    assert t.end.reason == "dead_air"
    msgs = " ".join(d.message for d in t.diagnostics)
    assert "flow" in msgs and "module" in msgs


def test_children_with_an_empty_default_node_is_invalid() -> None:
    t = run(replies({"module": "tts", "data": {"text": "x"}, "children": {"_": {}}}))
    assert t.end.reason == "dead_air"
    assert any(d.path and d.path.startswith("children._") for d in t.diagnostics)


def test_empty_children_object_is_fine() -> None:
    t = run(replies({"module": "tts", "data": {"text": "x"}, "children": {}}))
    assert t.prompts == ["x"] and t.end.reason == "hangup"


@pytest.mark.parametrize(
    "node, path",
    [
        ({"module": "user", "data": {"id": "u", "timeout": "20"}}, "data.timeout"),
        ({"module": "ring_group", "data": {"endpoints": ["abc"]}}, "data.endpoints.0"),
        ({"module": "tts", "data": {"text": "x" * 1001}}, "data.text"),
        ({"module": "tts", "data": {"text": "x", "engine": "polly"}}, "data.engine"),
        ({"module": "say", "data": {"text": "x"}}, "module"),
    ],
)
def test_strict_schema_types(node, path) -> None:
    t = run(replies(node))
    assert t.end.reason == "dead_air"
    assert any(d.path and d.path.startswith(path) for d in t.diagnostics), [d.path for d in t.diagnostics]


def test_json_served_as_text_html_works() -> None:
    t = run(replies(Response(json.dumps(tts("html json")), content_type="text/html; charset=utf-8")))
    assert t.prompts == ["html json"]


def test_json_with_charset_is_accepted() -> None:
    t = run(replies(Response(json.dumps(tts("charset")), content_type="application/json; charset=utf-8")))
    assert t.prompts == ["charset"]


def test_missing_content_type_means_twiml_so_json_is_not_recognised() -> None:
    def bare(environ, start_response):
        start_response("200 OK", [])
        return [json.dumps(tts("no type")).encode()]

    t = run(bare)
    assert t.end.reason == "hangup"
    assert t.prompts == []
    assert any("no Content-Type" in d.message for d in t.diagnostics)


def test_defaults_are_injected_and_terminators_are_shadowed() -> None:
    node = {"module": "collect_dtmf", "data": {"terminators": ["*"], "max_digits": 4},
            "children": {"_": pivot("http://pivot.example/2")}}
    app = replies(node, HANGUP)
    t = run(app, caller=pivotsim.Caller(["12*3#"]))
    # terminator "#" (the default) wins over terminators ["*"]: "*" is stored as a digit
    assert app.seen[1]["args"]["Digits[default]"] == ["12*3"]
    assert "collect_dtmf.terminators_shadowed" in t.diagnostic_codes()


def test_nested_pivot_without_req_format_gets_kazoo_from_the_schema() -> None:
    app = replies(pivot("http://pivot.example/2"), HANGUP)
    run(app)
    assert app.seen[1]["args"]["Api-Version"] == ["4.x"]


def test_stored_pivot_without_req_format_runs_as_twiml() -> None:
    app = replies(HANGUP)
    t = run(app, {"module": "pivot", "data": {"voice_url": "http://pivot.example/"}})
    assert app.seen[0]["args"]["ApiVersion"] == ["2010-04-01"]
    assert "pivot.req_format_absent" in t.diagnostic_codes()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "0.0.0.0"])
def test_nested_pivot_to_a_blacklisted_host_warns_or_fails_when_strict(host) -> None:
    app = replies(pivot(f"http://{host}:8000/next"), HANGUP)
    t = run(app)
    assert t.end.reason == "hangup"  # only a warning by default
    assert any(d.level == "warning" and "invalid client URL" in d.message for d in t.diagnostics)
    strict = run(replies(pivot(f"http://{host}:8000/next"), HANGUP),
                 options=pivotsim.Options(strict_blacklist=True))
    assert strict.end.reason == "dead_air"


def test_pivot_children_are_discarded_after_a_good_reply() -> None:
    t = run(replies(tts("from the reply")))
    assert t.prompts == ["from the reply"]  # never "failure branch"


def test_pivot_without_voice_url_goes_to_default() -> None:
    t = run(replies(HANGUP), {"module": "pivot", "data": {}, "children": {"_": FAILURE}})
    assert t.prompts == ["failure branch"]
    assert "pivot.no_voice_url" in t.diagnostic_codes()


def test_app_exception_is_a_500_with_the_cause_noted() -> None:
    def boom(seen):
        raise KeyError("Digits")

    t = run(scripted_app(boom))
    assert t.requests[0].status == 500
    assert t.prompts == ["failure branch"]


def test_wsgi_app_crash_outside_flask_is_reported() -> None:
    def raw(environ, start_response):
        raise ValueError("kaput")

    t = run(raw)
    assert t.requests[0].status == 500
    assert "ValueError: kaput" in t.requests[0].error


def test_inferred_behaviour_switches() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    engine = pivotsim.Engine(pivotsim.HTTPTransport(), options=pivotsim.Options(connect_error="failed"))
    t = engine.run(pivotsim.pivot_flow(f"http://127.0.0.1:{port}/x", children={"_": FAILURE}))
    assert t.events_of("prompt")[0].t_ms == 0

    not_twiml = replies(Response("<Other/>", content_type="text/xml"))
    t = run(not_twiml)
    assert t.end.reason == "hangup" and t.prompts == []
    assert t.end.detail.startswith("Kazoo hung up")
    t = run(not_twiml, options=pivotsim.Options(unrecognized_reply="default"))
    assert t.prompts == ["failure branch"]

    nulls = {"module": "set_variables", "data": {"custom_application_vars": {"gone": None}},
             "children": {"_": pivot("http://pivot.example/2")}}
    app = replies(nulls, HANGUP)
    run(app, options=pivotsim.Options(null_param="empty"))
    assert app.seen[1]["args"]["Custom-Application-Vars[gone]"] == [""]
