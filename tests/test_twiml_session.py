"""The TwiML session: request fields, the loop, how calls end, cdr_url, real HTTP, and the
hand-overs between Kazoo JSON and TwiML in one call (contract §1.4-1.6, §1.9, §2.3, §4.7, §9 items 26-27)."""

from __future__ import annotations

import json

import pytest
from apps.twiml_ivr import signed_ivr
from apps.twiml_kit import BASE, codes, diag, events, live_server, params, place, twiml_app, xml
from flask import Response

from pivotsim._call import CallProperties
from pivotsim._caller import Caller, Hangup
from pivotsim._engine import Engine
from pivotsim._options import Options
from pivotsim._transports import (
    CallableTransport,
    HTTPResponse,
    HTTPTransport,
    TransportError,
    WSGITransport,
)

CDR = f"{BASE}/cdr"


def app_for(first: str, **more: object):
    routes: dict[str, object] = {"/ivr/welcome.xml": first}
    routes.update({f"/ivr/{k}.xml": v for k, v in more.items()})
    return twiml_app(routes)


# -- request fields (§1.4, §1.5) --------------------------------------------------------------------
def test_twiml_field_names_and_no_call_status_on_the_first_request() -> None:
    app = app_for("<Hangup/>")
    t = place(app, call=None)
    first = app.seen[0]["args"]
    for name in ("CallSid", "AccountSid", "CallerName", "CallerNumber", "From", "To", "FromRealm", "ToRealm"):
        assert first[name]
    assert first["ApiVersion"] == "2010-04-01" and first["Direction"] == "inbound"
    assert first["CallSid"] == t.call["call_id"]
    assert not {"CallStatus", "Digits", "Custom-Application-Vars", "Language", "Api-Version"} & set(first)


def test_req_format_kazoo_gives_twiml_follow_ups_kazoo_names() -> None:
    app = app_for('<Gather numDigits="1" action="next.xml"><Say>pick</Say></Gather>', next="<Hangup/>")
    place(app, caller=["1"], req_format="kazoo")
    follow = app.seen[1]["form"]
    assert follow["Api-Version"] == "4.x" and follow["Call-ID"]
    assert follow["Digits"] == "1"  # ReqVars keep TwiML names even in kazoo format
    assert "CallSid" not in follow


def test_json_body_format_applies_to_every_post_of_the_session() -> None:
    app = app_for('<Gather numDigits="1" action="next.xml"><Say>pick</Say></Gather>', next="<Hangup/>")
    t = place(app, caller=["1"], req_body_format="json")
    assert app.seen[1]["json"]["Digits"] == "1"
    assert t.requests[1].headers == {"Content-Type": "application/json"}


def test_iteration_counts_the_requests_of_a_session() -> None:
    app = app_for("<Redirect>two.xml</Redirect>", two="<Redirect>three.xml</Redirect>", three="<Hangup/>")
    t = place(app)
    assert [r.iteration for r in t.requests] == [1, 2, 3]


def test_callflow_dtmf_collections_hide_gather_digits() -> None:
    app = app_for('<Gather numDigits="1" action="next.xml"><Say>pick</Say></Gather>', next="<Hangup/>")
    flow = {"module": "collect_dtmf", "data": {"max_digits": 2},
            "children": {"_": {"module": "pivot", "data": {"voice_url": f"{BASE}/ivr/welcome.xml",
                                                           "req_format": "twiml"}}}}
    t = place(app, flow=flow, caller=["42", "1"])
    assert app.seen[1]["form"]["Digits[default]"] == "42"
    assert "Digits" not in app.seen[1]["form"]
    assert ["Digits[default]", "42"] in t.requests[1].params


# -- how calls end (§4.7, §2.3) -----------------------------------------------------------------------
def test_the_end_of_the_document_hangs_up() -> None:
    t = place(app_for("<Say>bye</Say>"))
    assert (t.end.reason, t.end.detail) == ("hangup", "the TwiML document ended")


def test_a_twiml_error_hangs_up() -> None:
    t = place(app_for("<Dance/>"))
    assert t.end.reason == "hangup" and t.end.detail.startswith("TwiML error")


def test_a_failed_follow_up_is_dead_air() -> None:
    app = app_for("<Redirect>missing.xml</Redirect>")
    t = place(app)
    assert t.requests[1].status == 404
    assert t.end.reason == "dead_air"
    assert "publishes pivot.failed to nobody" in diag(t, "twiml.follow_up_failed")


def test_a_follow_up_timeout_is_dead_air() -> None:
    def fn(req):
        if "next" in req.url:
            raise TransportError("timeout", "too slow", 5000)
        return "<Response><Redirect>next.xml</Redirect></Response>"

    t = place(CallableTransport(fn))
    assert t.end.reason == "dead_air" and t.requests[1].outcome == "no_reply"


def test_empty_and_unrecognised_follow_ups_hang_up() -> None:
    t = place(app_for("<Redirect>next.xml</Redirect>", next=Response("", content_type="text/xml")))
    assert t.end.reason == "hangup" and "reply.empty" in codes(t)
    t = place(app_for("<Redirect>next.xml</Redirect>", next=xml("<html/>", wrap=False)))
    assert t.end.reason == "hangup" and "reply.not_recognized" in codes(t)


def test_a_caller_hanging_up_mid_prompt() -> None:
    t = place(app_for("<Say>a very long prompt that goes on and on</Say>"), caller=[Hangup()])
    assert t.end.reason == "caller_hangup" and t.end.t_ms == 500


def test_an_endless_redirect_loop_hits_the_step_limit() -> None:
    t = place(app_for("<Redirect/>"), options=Options(max_steps=20))
    assert t.end.reason == "step_limit"
    assert len(t.requests) == 20


# -- cdr_url (§1.9, §9 item 26) ------------------------------------------------------------------------
def cdr_of(app) -> dict[str, str]:
    posts = [s for s in app.seen if s["path"] == "/cdr"]
    assert len(posts) == 1, posts
    return posts[0]["form"]


def test_end_of_document_with_cdr_url_leaves_the_call_up_and_posts_the_cdr_when_the_caller_hangs_up() -> None:
    app = app_for("<Say>bye</Say>")
    t = place(app, cdr_url=CDR, caller=Caller(hangup_after_ms=60_000),
              call=CallProperties(custom_application_vars={"campaign": "spring"}))
    assert t.end.reason == "dead_air"
    assert "never hangs up" in diag(t, "twiml.cdr_url_keeps_call_up")
    cdr = t.requests[-1]
    assert (cdr.purpose, cdr.method, cdr.url, cdr.t_ms) == ("cdr", "POST", CDR, 60_000)
    assert cdr.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    form = cdr_of(app)
    assert form["Call-ID"] == t.call["call_id"]
    assert (form["Hangup-Cause"], form["Hangup-Code"], form["Disposition"]) == ("NORMAL_CLEARING", "sip:200", "ANSWER")
    assert (form["Duration-Seconds"], form["Billing-Seconds"]) == ("60", "60")
    assert form["Custom-Application-Vars[campaign]"] == "spring"
    assert form["From"] == f"{t.call['from_user']}@{t.call['from_realm']}"
    assert "Custom-Channel-Vars" not in form and "Event-Name" not in form and "App-Name" not in form
    assert int(form["Timestamp"]) > 63_000_000_000  # Gregorian seconds, as Kazoo counts


def cdr_timeline(t) -> tuple[dict, list[dict], list[dict]]:
    """The CDR request record and its request/response events, from the JSON transcript."""
    d = json.loads(json.dumps(t.to_dict()))
    times = [e["t_ms"] for e in d["events"]]
    assert times == sorted(times), "the transcript's events are not in time order"
    rec = next(r for r in d["requests"] if r["purpose"] == "cdr")
    evs = [e for e in d["events"] if e["type"] in ("request", "response") and e["index"] == rec["index"]]
    return rec, evs, d["events"]


def test_the_cdr_after_dead_air_is_posted_in_the_timeline_when_the_caller_hangs_up() -> None:
    app = app_for("<Say>bye</Say>")
    t = place(app, cdr_url=CDR, caller=Caller(hangup_after_ms=30_000))
    rec, evs, all_events = cdr_timeline(t)
    assert [e["type"] for e in evs] == ["request", "response"]
    assert rec["t_ms"] == evs[0]["t_ms"] == evs[1]["t_ms"] == 30_000
    assert cdr_of(app)["Duration-Seconds"] == "30"
    assert [e["t_ms"] for e in all_events if e["type"] == "end"] == [30_000]
    gone = events(t, "channel_destroyed")
    assert gone == [{"t_ms": 30_000, "why": "the caller hung up in the silence", "silent_ms": 29_400}]
    assert t.end.t_ms == 600  # the dead air started when the document ended


def test_the_cdr_after_a_timed_out_follow_up_is_posted_when_the_caller_hangs_up() -> None:
    def fn(req):
        if "next" in req.url:
            raise TransportError("timeout", "too slow", 5000)
        if req.url == CDR:
            return HTTPResponse(200, {"content-type": "text/plain"}, b"ok")
        return "<Response><Say>one moment</Say><Redirect>next.xml</Redirect></Response>"

    t = place(CallableTransport(fn), cdr_url=CDR, caller=Caller(hangup_after_ms=20_000))
    assert t.end.reason == "dead_air" and t.requests[1].outcome == "no_reply"
    rec, evs, _ = cdr_timeline(t)
    assert rec["t_ms"] == evs[0]["t_ms"] == evs[1]["t_ms"] == 20_000
    assert dict(rec["params"])["Duration-Seconds"] == "20"


def test_a_cdr_at_the_end_of_the_call_adds_no_silence() -> None:
    app = app_for("<Say>bye</Say><Hangup/>")
    t = place(app, cdr_url=CDR, caller=Caller(hangup_after_ms=30_000))
    rec, evs, _ = cdr_timeline(t)
    assert rec["t_ms"] == evs[0]["t_ms"] == t.end.t_ms == 600
    assert events(t, "channel_destroyed") == []


def test_the_cdr_names_the_dialled_leg_as_other_leg_call_id() -> None:
    app = app_for('<Dial action="after.xml">4155550100</Dial>', after="<Hangup/>")
    place(app, cdr_url=CDR)
    sid = app.seen[1]["form"]["DialCallSid"]
    assert sid and cdr_of(app)["Other-Leg-Call-ID"] == sid
    app = app_for("<Hangup/>")
    place(app, cdr_url=CDR)
    assert "Other-Leg-Call-ID" not in cdr_of(app)


def test_intended_mode_hangs_up_at_the_end_of_the_document_even_with_a_cdr_url() -> None:
    app = app_for("<Say>bye</Say>")
    t = place(app, cdr_url=CDR, options=Options(faithful=False))
    assert t.end.reason == "hangup"
    assert cdr_of(app)["Duration-Seconds"] == "0"


def test_hangup_and_reject_post_the_cdr_with_their_cause() -> None:
    app = app_for("<Hangup/>")
    place(app, cdr_url=CDR)
    assert cdr_of(app)["Hangup-Cause"] == "NORMAL_CLEARING"
    app = app_for('<Reject reason="busy"/>')
    t = place(app, cdr_url=CDR)
    assert t.end.reason == "sip_response"
    form = cdr_of(app)
    assert (form["Hangup-Cause"], form["Hangup-Code"], form["Disposition"]) == ("USER_BUSY", "sip:486", "NO ANSWER")


def test_a_twiml_error_with_cdr_url_is_silence_not_a_hangup() -> None:
    app = app_for('<Say voice="alice">hi</Say>')
    t = place(app, cdr_url=CDR, caller=Caller(hangup_after_ms=9000))
    assert t.end.reason == "dead_air"
    assert cdr_of(app)["Duration-Seconds"] == "9"


def test_no_cdr_after_pivot_call_exits_on_a_failed_follow_up() -> None:
    app = app_for("<Redirect>missing.xml</Redirect>")
    t = place(app, cdr_url=CDR)
    assert t.end.reason == "dead_air"
    assert not [s for s in app.seen if s["path"] == "/cdr"]
    assert "pivot_call exited" in diag(t, "cdr.not_posted")


def test_the_cdr_is_posted_even_when_the_caller_hangs_up_mid_call() -> None:
    app = app_for('<Gather numDigits="1" action="next.xml"><Say>pick</Say></Gather>')
    place(app, cdr_url=CDR, caller=[Hangup()])
    assert cdr_of(app)["Hangup-Cause"] == "NORMAL_CLEARING"


def test_a_first_reply_that_stops_without_hanging_up_still_posts_the_cdr() -> None:
    app = twiml_app({"/ivr/welcome.xml": Response("", content_type="text/xml"),
                     "/cdr": Response("ok", content_type="text/plain")})
    flow = {"module": "pivot", "data": {"voice_url": f"{BASE}/ivr/welcome.xml", "req_format": "twiml",
                                        "cdr_url": CDR},
            "children": {"_": {"module": "tts", "data": {"text": "fallback"}}}}
    t = place(app, flow=flow)
    assert t.prompts == ["fallback"]  # cf_pivot's 10 s wait, then _
    assert cdr_of(app)["Duration-Seconds"] == "10"
    assert t.requests[-1].status == 200 and t.requests[-1].outcome == "ignored"


def test_kazoo_json_first_reply_posts_no_cdr() -> None:
    app = twiml_app({"/ivr/welcome.xml": {"module": "tts", "data": {"text": "json"}}})
    place(app, cdr_url=CDR, req_format="kazoo")
    assert not [s for s in app.seen if s["path"] == "/cdr"]


# -- hand-overs between Kazoo JSON and TwiML ----------------------------------------------------------------
def mixed_app() -> object:
    next_pivot = {"module": "pivot", "data": {"voice_url": f"{BASE}/third.xml"}}
    return twiml_app({
        "/first.xml": '<Say>twiml one</Say><Set><Variable key="x" value="1"/></Set><Redirect>second</Redirect>',
        "/second": {"module": "tts", "data": {"text": "json two"}, "children": {"_": next_pivot}},
        "/third.xml": "<Say>twiml three</Say><Hangup/>",
    })


def test_json_flow_to_twiml_to_json_to_twiml_in_one_call() -> None:
    app = mixed_app()
    flow = {"module": "set_variables", "data": {"custom_application_vars": {"tier": "gold"}},
            "children": {"_": {"module": "pivot", "data": {"voice_url": f"{BASE}/first.xml", "req_format": "kazoo"}}}}
    t = place(app, flow=flow, cdr_url=None)
    paths = [(s["method"], s["path"]) for s in app.seen]
    assert paths == [("GET", "/first.xml"), ("POST", "/second"), ("GET", "/third.xml")]
    assert t.prompts == ["twiml one", "json two", "twiml three"]
    # hand-over 1, callflow -> TwiML: a kazoo-format pivot node, CAVs included
    assert app.seen[0]["args"]["Custom-Application-Vars[tier]"] == "gold"
    # inside TwiML: the follow-up keeps the session's kazoo format and carries the <Set> var
    second = app.seen[1]["form"]
    assert second["Api-Version"] == "4.x" and second["x"] == "1"
    assert [r.iteration for r in t.requests] == [1, 2, 1]
    # hand-over 2, TwiML -> callflow: kzt_kazoo validates the reply and cf_exe replaces the flow
    assert events(t, "handoff")[0]["to"] == "callflow"
    assert events(t, "flow_replaced")[0]["module"] == "tts"
    assert "twiml.to_kazoo_json" in codes(t)
    # hand-over 3, callflow -> TwiML again: a new pivot_call with callflow's copy of the call
    third = app.seen[2]["args"]
    assert third["Api-Version"] == "4.x"  # the nested pivot got req_format kazoo from the schema
    assert "x" not in third  # TwiML <Set> vars stay with the old session
    assert third["Custom-Application-Vars[tier]"] == "gold"
    assert t.requests[2].purpose == "voice_url"
    assert t.final_state["user_vars"] == {}
    assert t.end.reason == "hangup"


def test_twiml_handing_over_to_json_drops_the_cdr_duty() -> None:
    app = mixed_app()
    t = place(app, f"{BASE}/first.xml", cdr_url=CDR)
    assert not [s for s in app.seen if s["path"] == "/cdr"]
    assert "callflow" in diag(t, "cdr.not_posted")


def test_schema_invalid_json_after_twiml_is_dead_air() -> None:
    app = twiml_app({"/first.xml": "<Redirect>second</Redirect>",
                     "/second": {"flow": {"module": "tts", "data": {"text": "wrapped"}}}})
    t = place(app, f"{BASE}/first.xml")
    assert t.end.reason == "dead_air" and t.prompts == []
    assert t.requests[1].outcome == "schema_invalid"


# -- real HTTP on 127.0.0.1 -------------------------------------------------------------------------------
def test_a_twiml_ivr_over_real_http() -> None:
    app = twiml_app({
        "/ivr/welcome.xml": '<Gather numDigits="1" action="menu.xml"><Say>For sales press 1</Say></Gather>',
        "/ivr/menu.xml": '<Say>Leave a message</Say><Record action="done.xml" maxLength="30"/>',
        "/ivr/done.xml": "<Say>Thanks</Say><Hangup/>",
    })
    with live_server(app) as base:
        engine = Engine(HTTPTransport(), validator=None)
        from pivotsim._engine import pivot_flow

        t = engine.run(pivot_flow(f"{base}/ivr/welcome.xml", req_format="twiml"), caller=Caller(["1", "#"]))
    assert t.prompts == ["For sales press 1", "Leave a message", "Thanks"]
    assert [s["method"] for s in app.seen] == ["GET", "POST", "PUT", "POST"]
    assert app.seen[1]["form"]["Digits"] == "1"
    assert app.seen[3]["form"]["Digits"] == "#"
    for seen in app.seen:
        assert "x-twilio-signature" not in seen["headers"]
    assert t.end.reason == "hangup"


# -- no X-Twilio-Signature ----------------------------------------------------------------------------
def signature_diag(t):
    found = [d for d in t.diagnostics if d.code == "twiml.no_twilio_signature"]
    assert len(found) == 1, codes(t)
    return found[0]


def test_twilio_request_validation_rejects_kazoo_first_request() -> None:
    flow = {"module": "pivot", "data": {"voice_url": f"{BASE}/voice", "req_format": "twiml"},
            "children": {"_": {"module": "tts", "data": {"text": "fallback"}}}}
    t = place(signed_ivr(), flow=flow)
    assert t.requests[0].status == 403
    assert "twilio" not in (t.requests[0].body or "").lower()  # Flask's plain 403 page
    assert t.prompts == ["fallback"]
    hint = signature_diag(t)
    assert hint.level == "info" and hint.request == 0
    assert "X-Twilio-Signature" in hint.message and "validates Twilio signatures" in hint.message


def test_twilio_request_validation_on_a_follow_up_is_dead_air() -> None:
    t = place(signed_ivr(), f"{BASE}/open.xml")
    assert t.end.reason == "dead_air"
    hint = signature_diag(t)
    assert hint.level == "info" and hint.request == 1
    assert "X-Twilio-Signature" in hint.message


def test_a_refusal_that_names_the_signature_is_a_warning() -> None:
    t = place(signed_ivr(explain=True), f"{BASE}/open.xml")
    assert t.requests[1].status == 403
    hint = signature_diag(t)
    assert hint.level == "warning" and "mentions a signature" in hint.message


@pytest.mark.parametrize("status, body, level", [(401, "Unauthorized", "info"),
                                                 (403, "Twilio says no", "warning"),
                                                 (404, "signature", None), (500, "twilio", None)])
def test_the_signature_hint_comes_with_every_401_and_403_only(status: int, body: str, level: str | None) -> None:
    t = place(app_for("<Redirect>next.xml</Redirect>", next=Response(body, status=status)))
    found = [d.level for d in t.diagnostics if d.code == "twiml.no_twilio_signature"]
    assert found == ([level] if level else [])


def test_params_helper_reads_form_bodies() -> None:
    app = app_for("<Redirect>next.xml</Redirect>", next="<Hangup/>")
    t = place(app)
    assert params(t, 1)["ApiVersion"] == "2010-04-01"


def test_wsgi_and_callable_transports_see_the_same_calls() -> None:
    body = "<Response><Say>same</Say></Response>"
    t1 = place(CallableTransport(lambda req: HTTPResponse(200, {"content-type": "text/xml"}, body.encode())))
    t2 = place(WSGITransport(twiml_app({"/ivr/welcome.xml": xml(body, wrap=False)})))
    assert t1.prompts == t2.prompts == ["same"]
    assert json.dumps([e.type for e in t1.events]) == json.dumps([e.type for e in t2.events])


def test_twiml_transcripts_match_the_transcript_schema() -> None:
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "transcript.schema.json").read_text())
    app = twiml_app({
        "/ivr/welcome.xml": '<Gather numDigits="1" action="menu.xml"><Say>Press 1</Say></Gather>',
        "/ivr/menu.xml": '<Record action="done.xml"/>',
        "/ivr/done.xml": '<Dial action="after.xml"><User>u1</User></Dial>',
        "/ivr/after.xml": "<Hangup/>",
    })
    t = place(app, caller=["1", "#"], cdr_url=CDR)
    assert [r.purpose for r in t.requests] == ["voice_url", "twiml_action", "twiml_action", "twiml_action", "cdr"]
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(t.to_dict())))
