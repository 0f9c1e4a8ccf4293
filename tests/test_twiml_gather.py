"""<Gather> as kzt_twiml and kzt_receiver run it (contract §4.3, §9 item 23)."""

from __future__ import annotations

import pytest
from apps.twiml_kit import codes, diag, events, place, twiml_app

from pivotsim._caller import Caller, Hangup, TypeAhead
from pivotsim._options import Options

PROMPT = "<Say>Enter your account number</Say>"  # 4 words: 1600 ms


def app_for(first: str, **more: str):
    routes = {"/ivr/welcome.xml": first}
    routes.update({f"/ivr/{k}.xml": v for k, v in more.items()})
    return twiml_app(routes)


def gather_app(attrs: str = 'action="got.xml"', inner: str = PROMPT, after: str = "<Say>nothing</Say>"):
    return app_for(f"<Gather {attrs}>{inner}</Gather>{after}", got="<Say>thanks</Say><Hangup/>")


def test_digits_go_to_the_action_by_post_once_and_the_rest_of_the_document_is_abandoned() -> None:
    app = gather_app('action="got.xml" numDigits="4"')
    t = place(app, caller=["1234"])
    assert (app.seen[1]["method"], app.seen[1]["path"]) == ("POST", "/ivr/got.xml")
    assert app.seen[1]["form"]["Digits"] == "1234"
    assert t.prompts == ["Enter your account number", "thanks"]
    assert events(t, "collected")[0] == {"t_ms": 1600 + 500 + 3 * 250, "collection": "Digits", "verb": "Gather",
                                         "digits": "1234", "how": "num_digits"}
    assert events(t, "dtmf")[0]["during"] == "Gather"


def test_no_action_means_the_current_url() -> None:
    app = app_for(f'<Gather numDigits="1">{PROMPT}</Gather>')
    place(app, caller=["1", Hangup()])
    assert app.seen[1]["path"] == "/ivr/welcome.xml" and app.seen[1]["method"] == "POST"


def test_no_input_makes_no_request_and_falls_through_never_sending_timeout() -> None:
    app = gather_app()
    t = place(app)
    assert len(app.seen) == 1
    assert t.prompts == ["Enter your account number", "nothing"]
    assert events(t, "collected")[0]["how"] == "timeout"
    assert events(t, "collected")[0]["t_ms"] == 1600 + 5000  # the timer starts after the prompt
    assert "Digits=TIMEOUT" in diag(t, "twiml.gather_no_input")


def test_the_timeout_is_a_total_budget_not_an_inter_digit_gap() -> None:
    app = gather_app('action="got.xml" timeout="3"')
    t = place(app, caller=Caller(["12345"], digit_interval_ms=1000))
    # presses at 0.5, 1.5, 2.5 s (kept) and 3.5, 4.5 s (after the 3 s budget)
    assert app.seen[1]["form"]["Digits"] == "123"
    assert events(t, "dtmf_ignored")[0]["digits"] == "45"
    assert "total budget" in diag(t, "twiml.gather_total_timeout")


def test_the_finish_key_ends_collection_and_is_not_sent() -> None:
    app = gather_app()
    t = place(app, caller=["42#9"])
    assert app.seen[1]["form"]["Digits"] == "42"
    assert events(t, "collected")[0]["how"] == "finish_key"
    assert events(t, "dtmf_ignored")[0]["digits"] == "9"


def test_the_finish_key_alone_is_no_input() -> None:
    app = gather_app()
    t = place(app, caller=["#"])
    assert len(app.seen) == 1
    assert t.prompts[-1] == "nothing"


def test_an_empty_finish_on_key_means_none_and_hash_is_a_digit() -> None:
    app = gather_app('action="got.xml" finishOnKey=""')
    place(app, caller=["12#"])
    assert app.seen[1]["form"]["Digits"] == "12#"


@pytest.mark.parametrize("attrs, words", [('finishOnKey="#*"', "exactly one key"),
                                          ('finishOnKey="x"', "exactly one key"),
                                          ('numDigits="0"', "numDigits above 0"),
                                          ('timeout="0"', "timeout above 0"),
                                          ('timeout="five"', "not an integer")])
def test_bad_gather_attributes_are_errors(attrs: str, words: str) -> None:
    t = place(gather_app(attrs))
    assert t.end.reason == "hangup" and t.prompts == []
    assert words in diag(t, "twiml.bad_attribute")


def test_a_long_timeout_is_capped_at_an_hour() -> None:
    t = place(gather_app('timeout="99999"'))
    assert events(t, "collected")[0]["t_ms"] == 1600 + 3_600_000


def test_barge_in_the_first_digit_stops_the_nested_verbs_and_starts_the_budget() -> None:
    app = gather_app('action="got.xml" numDigits="2"', inner=PROMPT + "<Say>second prompt</Say>")
    t = place(app, caller=[TypeAhead("58")])
    assert app.seen[1]["form"]["Digits"] == "58"
    assert "second prompt" not in t.prompts
    assert events(t, "prompt_stopped")[0]["by"] == "5"
    assert events(t, "collected")[0]["t_ms"] == 500 + 250


def test_barge_in_digits_then_more_at_the_input_point() -> None:
    app = gather_app('action="got.xml" numDigits="3"')
    place(app, caller=[TypeAhead("5"), "67"])
    assert app.seen[1]["form"]["Digits"] == "567"


def test_nested_pause_runs_before_the_timer_starts() -> None:
    app = gather_app(inner='<Pause length="2"/>')
    t = place(app)
    assert events(t, "collected")[0]["t_ms"] == 2000 + 5000


def test_a_nested_error_only_stops_the_nested_verbs() -> None:
    app = gather_app('action="got.xml" numDigits="1"', inner='<Say voice="alice">hi</Say><Say>never</Say>')
    t = place(app, caller=["3"])
    assert t.prompts == ["thanks"]
    assert app.seen[1]["form"]["Digits"] == "3"
    assert "only kills the nested process" in diag(t, "twiml.gather_nested_error")


def test_a_nested_redirect_is_dropped() -> None:
    app = gather_app(inner="<Redirect>elsewhere.xml</Redirect><Say>never</Say>")
    t = place(app)
    assert [s["path"] for s in app.seen] == ["/ivr/welcome.xml"]
    assert "never" not in t.prompts
    assert "twiml.gather_nested_request" in codes(t)


def test_a_nested_hangup_ends_the_call() -> None:
    t = place(gather_app(inner="<Hangup/>"))
    assert t.end.reason == "hangup" and t.end.detail == "<Hangup/>"


def test_nested_set_variables_are_lost() -> None:
    app = gather_app('action="got.xml" numDigits="1"', inner='<Set><Variable key="x" value="1"/></Set>' + PROMPT)
    t = place(app, caller=["1"])
    assert "x" not in app.seen[1]["form"]
    assert "twiml.gather_set_lost" in codes(t)


def test_digits_typed_before_a_gather_with_nested_verbs_are_discarded() -> None:
    app = app_for('<Say>hello</Say><Gather numDigits="1" action="got.xml">' + PROMPT + "</Gather>",
                  got="<Hangup/>")
    t = place(app, caller=[TypeAhead("9"), "1"])
    assert app.seen[1]["form"]["Digits"] == "1"
    assert events(t, "digits_discarded")[0]["digits"] == "9"


def test_after_a_gather_with_no_input_the_next_request_carries_an_empty_digits() -> None:
    t = place(twiml_app({"/ivr/welcome.xml": f"<Gather>{PROMPT}</Gather><Redirect>next.xml</Redirect>",
                         "/ivr/next.xml": "<Hangup/>"}))
    form = t.requests[1].params
    assert ["Digits", ""] in form  # kz_json keeps the empty binary; only undefined is dropped


def test_gather_ignores_twilio_speech_attributes() -> None:
    t = place(gather_app('action="got.xml" input="speech dtmf" actionOnEmptyResult="true"'))
    msgs = [d.message for d in t.diagnostics if d.code == "twiml.ignored_attribute"]
    assert any("speech recognition" in m for m in msgs)
    assert any("actionOnEmptyResult" in m for m in msgs)


# -- the <Gather/> with no children (🟥) -------------------------------------------------------------
def test_bare_gather_timeout_requests_the_action_anyway_with_no_digits_by_post() -> None:
    app = app_for('<Gather action="got.xml"/><Say>never</Say>', got="<Hangup/>")
    t = place(app)
    assert (app.seen[1]["method"], app.seen[1]["path"]) == ("POST", "/ivr/got.xml")
    assert "Digits" not in app.seen[1]["form"]
    assert "never" not in t.prompts
    assert "twiml.gather_bare_timeout" in codes(t)


def test_bare_gather_crashes_on_the_first_digit() -> None:
    app = app_for('<Gather action="got.xml"/>', got="<Hangup/>")
    t = place(app, caller=["1"])
    assert len(app.seen) == 1
    assert t.end.reason == "hangup"
    assert "binary append on undefined" in diag(t, "twiml.gather_bare_crash")


def test_bare_gather_finish_key_first_requests_without_digits() -> None:
    app = app_for('<Gather action="got.xml"/>', got="<Hangup/>")
    place(app, caller=["#"])
    assert app.seen[1]["path"] == "/ivr/got.xml" and "Digits" not in app.seen[1]["form"]


def test_bare_gather_counts_digits_typed_over_a_previous_say() -> None:
    app = app_for('<Say>menu</Say><Gather numDigits="2" action="got.xml"/>', got="<Hangup/>")
    t = place(app, caller=[TypeAhead("42")])
    assert app.seen[1]["form"]["Digits"] == "42"
    assert events(t, "collected")[0]["how"] == "num_digits"


def test_explicitly_empty_gather_is_bare_but_whitespace_inside_is_not() -> None:
    app = app_for('<Gather action="got.xml"></Gather>', got="<Hangup/>")
    place(app)
    assert len(app.seen) == 2
    app = app_for('<Gather action="got.xml"> </Gather><Say>fell through</Say>', got="<Hangup/>")
    t = place(app)
    assert len(app.seen) == 1 and t.prompts == ["fell through"]


def test_intended_mode_bare_gather_behaves() -> None:
    app = app_for('<Gather action="got.xml"/><Say>fell through</Say>', got="<Hangup/>")
    t = place(app, options=Options(faithful=False))
    assert len(app.seen) == 1 and t.prompts == ["fell through"]
    t = place(app_for('<Gather numDigits="1" action="got.xml"/>', got="<Hangup/>"), caller=["7"],
              options=Options(faithful=False))
    assert ["Digits", "7"] in t.requests[1].params


def test_pressing_over_an_endless_nested_prompt_barges_in() -> None:
    app = gather_app('action="got.xml" numDigits="1"', inner='<Say loop="0">Please choose</Say>')
    t = place(app, caller=["3"])
    assert app.seen[1]["form"]["Digits"] == "3"
    assert "twiml.endless_loop" in codes(t)
