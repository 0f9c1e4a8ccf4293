"""<Dial> as kzt_twiml_dial and kzt_receiver run it (contract §4.2 Dial row, §4.5)."""

from __future__ import annotations

import hashlib

import pytest
from apps.twiml_kit import codes, diag, events, place, twiml_app

from pivotsim._caller import TypeAhead
from pivotsim._fixtures import BridgeOutcome, Fixtures
from pivotsim._options import Options
from pivotsim._twiml_dial import normalize_number

AFTER = "<Say>after the dial</Say><Hangup/>"


def app_for(first: str, **more: str):
    routes = {"/ivr/welcome.xml": first}
    routes.update({f"/ivr/{k}.xml": v for k, v in more.items()})
    return twiml_app(routes)


@pytest.mark.parametrize("raw, e164", [("4155550100", "+14155550100"), ("14155550100", "+14155550100"),
                                       ("+442071234567", "+442071234567"), ("011442071234567", "+442071234567"),
                                       ("0033123456789", "+33123456789"), ("1234", "1234")])
def test_numbers_are_normalised_like_knm_converters(raw: str, e164: str) -> None:
    assert normalize_number(raw) == e164


# -- a number: offnet ---------------------------------------------------------------------------------
def test_a_number_goes_offnet_and_the_caller_continues_with_the_action() -> None:
    app = app_for('<Dial action="done.xml">+1 (415) 555-0100</Dial><Say>never</Say>', done=AFTER)
    t = place(app)
    assert events(t, "answer")
    attempt = events(t, "bridge_attempt")[0]
    assert attempt["target"] == "offnet:+14155550100" and attempt["via"] == "offnet"
    assert attempt["timeout_s"] == 30  # the call timeout of an offnet Dial
    assert events(t, "bridged")[0]["t_ms"] == 4000
    form = app.seen[1]["form"]
    assert form["CallStatus"] == "completed"
    assert form["DialCallStatus"] == "in-progress"  # Kazoo never finalises it for offnet
    assert form["DialCallSid"] == events(t, "bridged")[0]["b_leg"]
    assert form["Digits"] == ""  # wait_for_offnet cleared the digits
    assert t.prompts == ["after the dial"]
    assert "twiml.dial_number_cleaned" in codes(t) and "twiml.dial_status_offnet" in codes(t)


def test_without_action_an_offnet_dial_goes_on_to_the_next_verb() -> None:
    t = place(app_for("<Dial>4155550100</Dial><Say>next verb</Say>"))
    assert t.prompts == ["next verb"]
    assert t.end.t_ms == 4000 + 30_000 + 800  # ring, talk, then the 2-word Say


def test_a_busy_number_reports_busy_and_the_caller_stays() -> None:
    fx = Fixtures(outcomes={"offnet:+14155550100": "busy"})
    app = app_for('<Dial action="done.xml">4155550100</Dial>', done=AFTER)
    t = place(app, fixtures=fx)
    assert events(t, "bridge_failed")[0]["cause"] == "USER_BUSY"
    assert app.seen[1]["form"]["CallStatus"] == "busy"
    assert app.seen[1]["form"]["DialCallStatus"] == "ringing"
    assert t.prompts == ["after the dial"]
    # an app that checks DialCallStatus == "busy", as Twilio's tutorials do, is told why it never is
    warning = diag(t, "twiml.dial_status_offnet")
    assert "USER_BUSY" in warning and "DialCallStatus at 'ringing'" in warning and "read CallStatus" in warning


def test_an_unanswered_number_rings_for_the_dial_timeout() -> None:
    fx = Fixtures(outcomes={"offnet": "no_answer"})
    app = app_for('<Dial action="done.xml" timeout="10">4155550100</Dial>', done=AFTER)
    t = place(app, fixtures=fx)
    assert events(t, "bridge_failed")[0]["t_ms"] == 10_000
    assert app.seen[1]["form"]["CallStatus"] == "no-answer"


def test_an_unreachable_number_has_no_dial_call_sid() -> None:
    fx = Fixtures(outcomes={"offnet": "unallocated"})
    app = app_for('<Dial action="done.xml">4155550100</Dial>', done=AFTER)
    place(app, fixtures=fx)
    assert "DialCallSid" not in app.seen[1]["form"]
    assert app.seen[1]["form"]["CallStatus"] == "failed"


def test_a_single_number_noun_goes_offnet_and_its_twilio_attributes_are_ignored() -> None:
    app = app_for('<Dial action="done.xml">\n  <Number sendDigits="ww12">4155550100</Number>\n</Dial>',
                  done=AFTER)
    t = place(app)
    assert events(t, "bridge_attempt")[0]["via"] == "offnet"
    assert "sendDigits" in diag(t, "twiml.ignored_attribute")
    assert t.prompts == ["after the dial"]


def test_an_empty_number_noun_skips_the_dial() -> None:
    t = place(app_for("<Dial><Number> </Number></Dial><Say>skipped</Say>"))
    assert events(t, "bridge_attempt") == [] and t.prompts == ["skipped"]


def test_a_number_noun_followed_by_whitespace_is_bridged_as_an_endpoint() -> None:
    # xmerl keeps "\n": the content is [Number, text], which is not the lone-<Number> clause
    t = place(app_for('<Dial action="done.xml"><Number>4155550100</Number>\n</Dial>', done=AFTER))
    assert "via" not in events(t, "bridge_attempt")[0]
    assert t.end.reason == "bridged"


def test_caller_id_changes_what_later_requests_send() -> None:
    app = app_for('<Dial callerId="+15005550006" action="done.xml">4155550100</Dial>', done=AFTER)
    t = place(app)
    assert app.seen[0]["args"]["CallerNumber"] != "+15005550006"
    assert app.seen[1]["form"]["CallerNumber"] == "+15005550006"
    assert "twiml.dial_caller_id" in codes(t)


def test_time_limit_hangs_up_the_caller() -> None:
    app = app_for('<Dial timeLimit="10" action="done.xml">4155550100</Dial>', done=AFTER)
    t = place(app)
    assert events(t, "bridge_ended")[0]["by"] == "timeLimit"
    assert t.end.reason == "hangup" and t.end.t_ms == 4000 + 10_000
    assert app.seen[1]["form"]["CallStatus"] == "completed"  # the action is still requested


# -- users, devices, SIP: bridged, then the caller is hung up ---------------------------------------------
def test_an_answered_user_bridge_hangs_up_the_caller_when_it_ends() -> None:
    app = app_for('<Dial action="done.xml"><User>u1</User></Dial><Say>never</Say>', done=AFTER)
    t = place(app)
    assert events(t, "bridge_attempt")[0]["target"] == "user:u1"
    assert events(t, "bridged")[0]["target"] == "user:u1"
    form = app.seen[1]["form"]
    assert (form["DialCallStatus"], form["CallStatus"]) == ("completed", "completed")
    assert t.prompts == []  # the action's TwiML never plays
    assert t.end.reason == "bridged" and t.end.target == "user:u1"
    assert "hangs up the caller" in diag(t, "twiml.dial_a_leg_hangup")


def test_a_busy_device_reports_no_answer_and_busy_then_hangs_up() -> None:
    fx = Fixtures(outcomes={"device:d1": "busy"})
    app = app_for('<Dial action="done.xml"><Device>d1</Device></Dial>', done=AFTER)
    t = place(app, fixtures=fx)
    form = app.seen[1]["form"]
    assert (form["DialCallStatus"], form["CallStatus"]) == ("no-answer", "busy")
    assert t.end.reason == "hangup" and t.end.hangup_cause == "USER_BUSY"


def test_without_action_a_bridge_still_ends_the_call() -> None:
    t = place(app_for("<Dial><Sip>sip:alice@pbx.example</Sip></Dial><Say>never</Say>"))
    assert events(t, "bridged")[0]["target"] == "sip:alice@pbx.example"
    assert t.prompts == [] and t.end.reason == "bridged"


def test_several_nouns_ring_together_and_the_first_to_answer_wins() -> None:
    fx = Fixtures(outcomes={"user:slow": BridgeOutcome(ring_ms=9000), "device:fast": BridgeOutcome(ring_ms=2000)})
    body = "<Dial><User>slow</User><Device>fast</Device><Number>4155550100</Number><Client>bob</Client></Dial>"
    t = place(app_for(body), fixtures=fx)
    assert [e["target"] for e in events(t, "bridge_attempt")] == ["user:slow", "device:fast", "offnet:+14155550100"]
    assert events(t, "bridged")[0]["target"] == "device:fast"
    assert "Twilio Client" in diag(t, "twiml.dial_unknown_noun")


def test_users_missing_from_the_fixtures_are_skipped_and_no_endpoint_stops_the_twiml() -> None:
    t = place(app_for("<Dial><User>ghost</User></Dial><Say>never</Say>"), fixtures=Fixtures(users={"u1": {}}))
    assert "twiml.dial_user_not_found" in codes(t) and "twiml.dial_no_endpoints" in codes(t)
    assert t.end.reason == "hangup" and t.prompts == []


def test_strategy_crashes_kazoo_but_works_in_intended_mode() -> None:
    body = '<Dial strategy="single"><User>a</User><User>b</User></Dial>'
    t = place(app_for(body))
    assert t.end.reason == "hangup" and "xmerl gives a string" in diag(t, "twiml.dial_strategy")
    fx = Fixtures(outcomes={"user:a": "no_answer"})
    t = place(app_for(body), fixtures=fx, options=Options(faithful=False))
    assert events(t, "bridged")[0]["target"] == "user:b"
    assert events(t, "bridged")[0]["t_ms"] == 20_000 + 4000  # a rang out its 20 s first


def test_hangup_on_star_is_ignored_but_hangup_on_works_and_hangs_up_the_caller() -> None:
    t = place(app_for('<Dial hangupOnStar="true">4155550100</Dial><Say>next</Say>'), caller=[TypeAhead("*")])
    assert "twiml.dial_hangup_on_star" in codes(t)
    assert t.prompts == ["next"]
    t = place(app_for('<Dial hangupOn="*">4155550100</Dial><Say>next</Say>'), caller=[TypeAhead("*")])
    assert t.end.reason == "hangup" and t.prompts == []
    assert "not the called party" in diag(t, "twiml.dial_hangup_on")


def test_record_on_dial_is_noted() -> None:
    t = place(app_for('<Dial record="true">4155550100</Dial>'))
    assert events(t, "dial_record")


# -- conference and queue ----------------------------------------------------------------------------------
def test_a_conference_is_a_handoff_to_the_md5_room_and_the_action_is_never_requested() -> None:
    app = app_for('<Dial action="done.xml"><Conference beep="false">Sales Room</Conference></Dial>', done=AFTER)
    t = place(app)
    room = hashlib.md5(b"Sales Room").hexdigest()
    hand = events(t, "handoff")[0]
    assert (hand["to"], hand["target"], hand["beep"]) == ("conference", room, False)
    assert t.end.reason == "conference" and t.end.target == room
    assert len(app.seen) == 1
    assert "never requested" in diag(t, "twiml.conference_action")


@pytest.mark.parametrize("n", ["2", "41"])
def test_conference_size_outside_3_to_40_is_an_error(n: str) -> None:
    t = place(app_for(f'<Dial><Conference maxParticipants="{n}">r</Conference></Dial>'))
    assert t.end.reason == "hangup" and "3 to 40" in diag(t, "twiml.bad_attribute")


def test_a_queue_is_unsupported_and_stops_the_twiml() -> None:
    t = place(app_for("<Dial><Queue>support</Queue></Dial><Say>never</Say>"))
    assert events(t, "handoff")[0] == {"t_ms": 0, "to": "queue", "target": "support", "supported": False}
    assert t.end.reason == "hangup" and t.prompts == []
    assert "twiml.dial_queue" in codes(t)


# -- shapes that crash ------------------------------------------------------------------------------------
def errors(t) -> list[str]:
    return [d.code for d in t.diagnostics if d.level == "error"]


@pytest.mark.parametrize("verb, noun", [("Conference", "<Conference{a}>Sales Room</Conference>"),
                                        ("Queue", "<Queue{a}>support</Queue>")])
@pytest.mark.parametrize("method", ["PUT", "delete"])
def test_a_conference_or_queue_method_erlang_knows_as_an_atom_crashes_the_dial(
        verb: str, noun: str, method: str) -> None:
    attr = f' method="{method}"'
    app = app_for(f"<Dial>{noun.format(a=attr)}</Dial><Say>never</Say>")
    t = place(app)
    assert t.end.reason == "hangup" and t.end.detail.startswith("TwiML error")
    assert events(t, "handoff") == [] and t.prompts == []
    assert errors(t) == ["twiml.bad_method"]
    assert f"<{verb}>" in diag(t, "twiml.bad_method") and "try_clause" in diag(t, "twiml.bad_method")
    assert len(app.seen) == 1


def test_a_conference_or_queue_method_crash_with_a_cdr_url_is_silence() -> None:
    app = app_for('<Dial><Queue method="PUT">support</Queue></Dial>')
    t = place(app, cdr_url="http://ivr.example/cdr")
    assert t.end.reason == "dead_air" and "twiml.bad_method" in codes(t)


@pytest.mark.parametrize("method", ["GET", "post", "banana"])
def test_a_conference_or_queue_method_kazoo_can_read_is_unused(method: str) -> None:
    t = place(app_for(f'<Dial><Conference method="{method}">r</Conference></Dial>'))
    assert t.end.reason == "conference"
    assert "twiml.unknown_method" not in codes(t)  # the value is thrown away, so no warning
    t = place(app_for(f'<Dial><Queue method="{method}">q</Queue></Dial>'))
    assert events(t, "handoff")[0]["to"] == "queue" and "twiml.dial_queue" in codes(t)


# -- continueOnFail (Kazoo's Force-Outbound) -----------------------------------------------------------------
@pytest.mark.parametrize("attrs, force", [("", True), (' continueOnFail="true"', True),
                                          (' continueOnFail="false"', False), (' continueOnFail="True"', False)])
def test_continue_on_fail_is_the_force_outbound_flag_of_a_number_dial(attrs: str, force: bool) -> None:
    app = app_for(f'<Dial{attrs} action="done.xml">4155550100</Dial>', done=AFTER)
    t = place(app)
    assert events(t, "bridge_attempt")[0]["force_outbound"] is force
    assert ("twiml.dial_continue_on_fail" in codes(t)) is not force
    assert t.prompts == ["after the dial"]  # pivotsim still dials the offnet fixture
    if not force:
        msg = diag(t, "twiml.dial_continue_on_fail")
        assert "Force-Outbound false" in msg and "on-net" in msg and "offnet:+14155550100" in msg


def test_continue_on_fail_also_applies_to_a_single_number_noun() -> None:
    t = place(app_for('<Dial continueOnFail="false"><Number>4155550100</Number></Dial>'))
    assert events(t, "bridge_attempt")[0]["force_outbound"] is False


@pytest.mark.parametrize("body", ['<Dial continueOnFail="false"><User>u1</User><User>u2</User></Dial>',
                                  '<Dial continueOnFail="false"><Conference>r</Conference></Dial>',
                                  '<Dial continueOnFail="false"><Queue>q</Queue></Dial>'])
def test_continue_on_fail_is_ignored_by_endpoint_conference_and_queue_dials(body: str) -> None:
    t = place(app_for(body))
    assert "twiml.dial_continue_on_fail" not in codes(t)
    assert "only read when Kazoo dials a number offnet" in diag(t, "twiml.ignored_attribute")
    assert all("force_outbound" not in e for e in events(t, "bridge_attempt"))


# -- shapes that crash ------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, code", [("<Dial/>", "twiml.dial_empty"), ("<Dial></Dial>", "twiml.dial_empty"),
                                        ("<Dial>call me</Dial>", "twiml.dial_empty"),
                                        ('<Dial timeout="0">4155550100</Dial>', "twiml.bad_attribute"),
                                        ('<Dial timeLimit="soon">4155550100</Dial>', "twiml.bad_attribute")])
def test_dials_kazoo_cannot_run_are_errors(body: str, code: str) -> None:
    t = place(app_for(body + "<Say>never</Say>"))
    assert t.end.reason == "hangup" and t.prompts == []
    assert errors(t) == [code]
