"""Every verb of contract §4.2 (Dial: test_twiml_dial.py), as Kazoo honours it, against small TwiML apps."""

from __future__ import annotations

import pytest
from apps.twiml_kit import BASE, codes, diag, events, place, twiml_app

from pivotsim._caller import Caller, Hangup, Silence, TypeAhead
from pivotsim._fixtures import Fixtures
from pivotsim._options import Options


def app_for(first: str, **more: str):
    """``/ivr/welcome.xml`` answers ``first``; ``name=body`` adds ``/ivr/name.xml``."""
    routes = {"/ivr/welcome.xml": first}
    routes.update({f"/ivr/{k}.xml": v for k, v in more.items()})
    return twiml_app(routes)


# -- Say ------------------------------------------------------------------------------------------
def test_say_answers_and_speaks_with_kazoo_voice_and_language() -> None:
    t = place(app_for('<Say voice="man" language="en-gb">Hello there</Say>'))
    assert t.prompts == ["Hello there"]
    tts = events(t, "tts")[0]
    assert (tts["voice"], tts["language"]) == ("male", "en-GB")
    assert [e.type for e in t.events].index("answer") < [e.type for e in t.events].index("prompt")
    assert t.end.reason == "hangup" and t.end.detail == "the TwiML document ended"


@pytest.mark.parametrize("voice, kazoo", [("man", "male"), ("male", "male"), ("woman", "female"),
                                          ("female", "female")])
def test_say_voices_kazoo_knows(voice: str, kazoo: str) -> None:
    t = place(app_for(f'<Say voice="{voice}">hi</Say>'))
    assert events(t, "tts")[0]["voice"] == kazoo


@pytest.mark.parametrize("language, kazoo", [("en", "en-US"), ("en-gb", "en-GB"), ("es", "es"), ("fr", "fr"),
                                             ("de", "de"), ("it", "it")])
def test_say_languages_kazoo_knows(language: str, kazoo: str) -> None:
    t = place(app_for(f'<Say language="{language}">hi</Say>'))
    assert events(t, "tts")[0]["language"] == kazoo


@pytest.mark.parametrize("voice", ["alice", "Polly.Amy", "Polly.Joanna-Neural", "Google.en-US-Standard-A", "Man"])
def test_twilio_voices_are_an_error_and_a_hangup(voice: str) -> None:
    t = place(app_for(f'<Say voice="{voice}">Welcome</Say><Say>never</Say>'))
    assert t.prompts == []
    assert t.end.reason == "hangup"
    assert t.end.detail.startswith("TwiML error")
    msg = diag(t, "twiml.say_voice")
    assert voice in msg and "not supported by Kazoo" in msg
    assert events(t, "answer")  # Kazoo answers before it looks at the voice


@pytest.mark.parametrize("language, hint", [("en-US", 'language="en"'), ("en-GB", 'language="en-gb"'),
                                            ("es-MX", 'language="es"'), ("pt-BR", "")])
def test_twilio_languages_are_an_error_and_a_hangup(language: str, hint: str) -> None:
    t = place(app_for(f'<Say language="{language}">Welcome</Say>'))
    assert t.prompts == [] and t.end.reason == "hangup"
    msg = diag(t, "twiml.say_language")
    assert language in msg and hint in msg


def test_say_loop_repeats_and_loop_zero_repeats_until_the_caller_hangs_up() -> None:
    t = place(app_for('<Say loop="3">again</Say>'))
    assert t.prompts == ["again"] * 3
    t = place(app_for('<Say loop="0">forever</Say>'), caller=Caller(hangup_after_ms=10_000))
    assert t.end.reason == "caller_hangup" and t.end.t_ms == 10_000
    assert "twiml.endless_loop" in codes(t)
    t = place(app_for('<Say loop="0">forever</Say>'))
    assert t.end.reason == "step_limit"


def test_say_negative_loop_is_an_error() -> None:
    t = place(app_for('<Say loop="-1">x</Say>'))
    assert t.end.reason == "hangup" and "twiml.bad_attribute" in codes(t)


def test_say_text_is_cut_to_4000_bytes() -> None:
    t = place(app_for("<Say>" + "word " * 1000 + "</Say>"))
    assert len(t.prompts[0].encode()) == 4000
    assert "twiml.say_truncated" in codes(t)


def test_ssml_inside_say_is_dropped_with_its_words() -> None:
    t = place(app_for("<Say>Hello <emphasis>big</emphasis> world</Say>"))
    assert t.prompts == ["Hello  world"]
    assert "twiml.say_ssml" in codes(t)


def test_dtmf_during_a_top_level_say_is_sent_as_digits_on_the_next_request() -> None:
    app = app_for("<Say>press anything</Say><Redirect>next.xml</Redirect>", next="<Hangup/>")
    t = place(app, caller=[TypeAhead("5")])
    assert app.seen[1]["form"]["Digits"] == "5"
    assert events(t, "prompt_stopped")[0]["by"] == "5"
    assert events(t, "dtmf")[0]["during"] == "prompt"


def test_say_terminators_none_lets_the_prompt_play_on_but_keeps_the_digit() -> None:
    app = app_for('<Say terminators="">long text here</Say><Redirect>next.xml</Redirect>', next="<Hangup/>")
    t = place(app, caller=[TypeAhead("7")])
    assert events(t, "prompt_stopped") == []
    assert app.seen[1]["form"]["Digits"] == "7"


def test_say_engine_goes_to_the_tts_request() -> None:
    t = place(app_for('<Say engine="flite">one</Say><Say>two</Say>'))
    first, second = events(t, "tts")
    assert first["engine"] == "flite"
    assert "engine" not in second  # no attribute: the system's default engine


# -- Play -----------------------------------------------------------------------------------------
def test_play_answers_and_plays_the_url_loop_times() -> None:
    url = "https://media.example/welcome.mp3"
    t = place(app_for(f'<Play loop="2">{url}</Play>'), fixtures=Fixtures(media={url: 1500}))
    assert t.prompts == [url, url]
    assert t.end.t_ms == 3000
    assert events(t, "answer")


MENU = "https://media.example/menu.mp3"


@pytest.mark.parametrize("digit, stops", [("#", True), ("5", False)])
def test_play_terminators_choose_which_digits_stop_the_media(digit: str, stops: bool) -> None:
    app = app_for(f'<Play terminators="#*">{MENU}</Play><Redirect>next.xml</Redirect>', next="<Hangup/>")
    t = place(app, caller=[TypeAhead(digit)], fixtures=Fixtures(media={MENU: 4000}))
    assert [e["by"] for e in events(t, "prompt_stopped")] == ([digit] if stops else [])
    assert t.requests[1].t_ms == (500 if stops else 4000)  # reaction_ms, or the whole media
    assert app.seen[1]["form"]["Digits"] == digit  # either way the digit is kept


def test_play_loop_zero_repeats_until_the_caller_hangs_up_in_virtual_time() -> None:
    fx = Fixtures(media={MENU: 2000})
    t = place(app_for(f'<Play loop="0">{MENU}</Play><Say>never</Say>'), fixtures=fx,
              caller=Caller(hangup_after_ms=3_600_000))
    assert t.end.reason == "caller_hangup" and t.end.t_ms == 3_600_000
    assert "never" not in t.prompts and "twiml.endless_loop" in codes(t)
    assert events(t, "prompt_repeats")[0]["until_ms"] == 3_600_000
    t = place(app_for(f'<Play loop="0">{MENU}</Play>'), fixtures=fx)
    assert t.end.reason == "step_limit" and "twiml.endless_loop" in codes(t)


def test_play_loop_zero_lets_each_type_ahead_stop_one_repetition_then_the_caller_hangs_up() -> None:
    app = app_for(f'<Play loop="0">{MENU}</Play>')
    t = place(app, caller=[TypeAhead("1"), TypeAhead("2"), Hangup()], fixtures=Fixtures(media={MENU: 2000}))
    assert t.prompts == [MENU] * 3
    assert [e["by"] for e in events(t, "prompt_stopped")] == ["1", "2"]
    assert t.end.reason == "caller_hangup" and t.end.t_ms == 1500  # two barge-ins, then reaction_ms


@pytest.mark.parametrize("caller", [["3"], [TypeAhead("3")]])
def test_play_loop_zero_inside_a_gather_ends_at_the_first_digit(caller: list) -> None:
    app = app_for(f'<Gather numDigits="1" action="menu.xml"><Play loop="0">{MENU}</Play></Gather>',
                  menu="<Hangup/>")
    t = place(app, caller=caller, fixtures=Fixtures(media={MENU: 2000}))
    assert app.seen[1]["form"]["Digits"] == "3"
    assert t.end.detail == "<Hangup/>" and t.end.t_ms < 5000


def test_an_empty_play_is_an_error() -> None:
    t = place(app_for("<Play/><Say>never</Say>"))
    assert t.prompts == [] and t.end.reason == "hangup"
    assert "no_media" in diag(t, "twiml.play_empty")


def test_twilio_play_digits_is_not_kazoo() -> None:
    t = place(app_for('<Play digits="ww1234"/>'))
    assert "digits" in diag(t, "twiml.ignored_attribute")
    assert "Play digits" in diag(t, "twiml.play_empty")


def test_a_relative_play_url_is_not_resolved() -> None:
    t = place(app_for("<Play>/static/hello.mp3</Play>"))
    assert t.prompts == ["/static/hello.mp3"]
    assert "does not resolve" in diag(t, "twiml.play_relative")


# -- Pause ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("attrs, ms", [("", 1000), (' length="3"', 3000), (' length="7200"', 3_600_000)])
def test_pause_answers_and_waits(attrs: str, ms: int) -> None:
    t = place(app_for(f"<Pause{attrs}/>"))
    assert events(t, "pause")[0]["ms"] == ms
    assert t.end.t_ms == ms
    assert events(t, "answer")


def errors(t) -> list[str]:
    return [d.code for d in t.diagnostics if d.level == "error"]


@pytest.mark.parametrize("body, code", [('<Pause length="0"/>', "twiml.bad_attribute"),
                                        ('<Pause length="-2"/>', "twiml.bad_attribute"),
                                        ('<Pause length="soon"/>', "twiml.bad_attribute"),
                                        ("<Pause> </Pause>", "twiml.unknown_element")])
def test_bad_pauses_are_errors(body: str, code: str) -> None:
    t = place(app_for(body + "<Say>never</Say>"))
    assert t.prompts == [] and t.end.reason == "hangup"
    assert errors(t) == [code]


# -- Hangup and Reject ----------------------------------------------------------------------------
def test_hangup_answers_and_ends_the_call() -> None:
    t = place(app_for("<Hangup/><Say>never</Say>"))
    assert t.end.reason == "hangup" and t.end.detail == "<Hangup/>"
    assert events(t, "answer") and t.prompts == []


@pytest.mark.parametrize("body", ['<Hangup reason="busy"/>', "<Hangup> </Hangup>"])
def test_hangup_with_attributes_or_content_is_an_unknown_element(body: str) -> None:
    t = place(app_for(body))
    assert "unknown-element clause" in diag(t, "twiml.unknown_element")
    assert t.end.detail.startswith("TwiML error")


@pytest.mark.parametrize("attrs, code, cause", [("", 503, "NORMAL_TEMPORARY_FAILURE"),
                                                (' reason="rejected"', 503, "NORMAL_TEMPORARY_FAILURE"),
                                                (' reason="busy"', 486, "USER_BUSY")])
def test_reject_sends_a_sip_response_without_answering(attrs: str, code: int, cause: str) -> None:
    t = place(app_for(f"<Reject{attrs}/>"))
    assert t.end.reason == "sip_response" and t.end.sip_code == code and t.end.hangup_cause == cause
    assert events(t, "answer") == []
    assert events(t, "sip_response")[0]["code"] == code


def test_reject_plays_its_prompt_without_answering_then_sends_the_sip_response() -> None:
    url = "https://media.example/closed.mp3"
    t = place(app_for(f'<Reject reason="busy" prompt="{url}"/>'), fixtures=Fixtures(media={url: 2500}))
    assert t.prompts == [url]
    assert events(t, "prompt")[0]["source"] == "Reject"
    assert events(t, "sip_response")[0]["t_ms"] == 2500
    assert (t.end.reason, t.end.sip_code, t.end.t_ms) == ("sip_response", 486, 2500)
    assert events(t, "answer") == []


def test_reject_with_an_unknown_reason_is_an_error() -> None:
    t = place(app_for('<Reject reason="spam"/>'))
    assert t.end.reason == "hangup" and "twiml.bad_attribute" in codes(t)


def test_reject_after_the_call_was_answered_is_just_a_hangup() -> None:
    t = place(app_for('<Say>hi</Say><Reject reason="busy"/>'))
    assert t.end.reason == "hangup"
    assert "twiml.reject_answered" in codes(t)


# -- Set and Redirect ---------------------------------------------------------------------------
def test_set_variables_are_sent_as_top_level_params_on_every_later_request() -> None:
    app = app_for('<Set><Variable key="lang" value="fr"/><Variable key="ApiVersion" value="hack"/></Set>'
                  "<Redirect>two.xml</Redirect>", two="<Redirect>three.xml</Redirect>", three="<Hangup/>")
    t = place(app)
    for seen in app.seen[1:]:
        assert seen["form"]["lang"] == "fr"
        assert seen["form"]["ApiVersion"] == "2010-04-01"  # the built-in name wins (§9 item 27)
    assert "lang" not in app.seen[0]["args"]
    assert t.final_state["user_vars"]["lang"] == "fr"


def test_set_vars_lose_to_the_gather_digits_on_its_request() -> None:
    app = app_for('<Set><Variable key="Digits" value="999"/></Set>'
                  '<Gather numDigits="1" action="two.xml"><Say>pick</Say></Gather>',
                  two="<Redirect>three.xml</Redirect>", three="<Hangup/>")
    place(app, caller=["1"])
    assert app.seen[1]["form"]["Digits"] == "1"  # ReqVars win over <Set> vars (§1.5)
    assert app.seen[2]["form"]["Digits"] == "999"  # then the <Set> value is back


def test_set_freezes_the_request_vars_of_the_moment_into_the_user_vars() -> None:
    app = app_for('<Say>x</Say><Set><Variable key="k" value="v"/></Set>'
                  '<Gather numDigits="1" action="two.xml"><Say>pick</Say></Gather>',
                  two="<Redirect>three.xml</Redirect>", three="<Hangup/>")
    t = place(app, caller=[TypeAhead("4"), "1"])
    # kzt_translator:set_user_vars merges today's request vars (Digits=4, typed over the Say)...
    assert t.final_state["user_vars"] == {"Digits": "4", "k": "v"}
    assert app.seen[1]["form"]["Digits"] == "1"
    # ...so the frozen Digits comes back on every later request.
    assert app.seen[2]["form"]["Digits"] == "4"


def test_each_set_variable_answers_the_call() -> None:
    t = place(app_for('<Set><Variable key="k" value="v"/></Set><Reject reason="busy"/>'))
    assert len(events(t, "answer")) == 1
    assert t.end.reason == "hangup" and "twiml.reject_answered" in codes(t)
    # a <Set> with no <Variable> answers nothing: the Reject still sends its SIP response
    t = place(app_for('<Set><Note key="k"/></Set><Reject reason="busy"/>'))
    assert events(t, "answer") == [] and t.end.reason == "sip_response"
    assert "twiml.set_ignored" in codes(t)


def test_built_in_call_status_names_win_over_set_and_redirect_variables() -> None:
    app = app_for(
        '<Set><Variable key="CallStatus" value="from-set"/><Variable key="DialCallStatus" value="from-set"/></Set>'
        '<Redirect>two.xml</Redirect>',
        two='<Dial action="three.xml">4155550100</Dial>',
        three='<Redirect><Variable key="CallStatus" value="from-redirect"/>'
              '<Variable key="DialCallStatus" value="from-redirect"/>four.xml</Redirect>',
        four="<Hangup/>")
    place(app)
    before, after_dial, after_redirect = (app.seen[i]["form"] for i in (1, 2, 3))
    # no built-in value yet: the user variables are sent as they are
    assert (before["CallStatus"], before["DialCallStatus"]) == ("from-set", "from-set")
    # the Dial gave Kazoo its own values, and the built-in names win (§9 item 27)
    assert (after_dial["CallStatus"], after_dial["DialCallStatus"]) == ("completed", "in-progress")
    assert (after_redirect["CallStatus"], after_redirect["DialCallStatus"]) == ("completed", "in-progress")


def test_a_variable_without_value_removes_it() -> None:
    app = app_for('<Set><Variable key="a" value="1"/></Set><Set><Variable key="a"/></Set>'
                  "<Redirect>two.xml</Redirect>", two="<Hangup/>")
    t = place(app)
    assert "a" not in app.seen[1]["form"]
    assert "twiml.variable_unset" in codes(t)


def test_redirect_answers_sets_its_variables_and_uses_its_method() -> None:
    app = app_for('<Redirect method="GET"><Variable key="step" value="2"/>two.xml</Redirect>',
                  two="<Hangup/>")
    t = place(app)
    assert (app.seen[1]["method"], app.seen[1]["path"]) == ("GET", "/ivr/two.xml")
    assert app.seen[1]["args"]["step"] == "2"
    assert events(t, "answer")
    assert t.requests[1].purpose == "redirect"


# -- unknown elements ------------------------------------------------------------------------------
@pytest.mark.parametrize("body, words", [
    ("<Enqueue>support</Enqueue>", "Twilio verb"),
    ("<Message>hi</Message>", "cannot send messages"),
    ("<Connect><Stream url='wss://x'/></Connect>", "Twilio verb"),
    ("<say>hi</say>", "case-sensitive"),
    ("<Number>+15550100</Number>", "only means something inside <Dial>"),
    ("<Speak>hi</Speak>", "has no <Speak>"),
])
def test_unknown_elements_end_the_twiml_with_an_error(body: str, words: str) -> None:
    t = place(app_for("<Say>first</Say>" + body + "<Say>never</Say>"))
    assert t.prompts == ["first"]
    assert t.end.reason == "hangup"
    msg = diag(t, "twiml.unknown_element")
    assert words in msg and "unknown_element" in msg


# -- Record -----------------------------------------------------------------------------------------
def record_app(record: str = '<Record action="saved.xml"/>', after: str = "<Say>after</Say>", **more: str):
    more.setdefault("saved", "<Say>saved</Say><Hangup/>")
    return app_for(record + after, **more)


def test_record_silence_is_an_empty_recording_and_makes_no_request() -> None:
    app = record_app()
    t = place(app, caller=[Silence()])
    assert len(app.seen) == 1
    assert t.prompts == ["after"]
    assert events(t, "beep")
    rec = events(t, "recorded")[0]
    assert rec["empty"] is True and rec["length_s"] == 5
    assert events(t, "record_start")[0]["t_ms"] == 600  # after the 440 Hz beep
    assert "twiml.record_empty" in codes(t)


def test_record_with_a_finish_key_stores_under_the_action_and_requests_it() -> None:
    app = record_app()
    t = place(app, caller=["#"])
    call_id = t.call["call_id"]
    put = app.seen[1]
    assert put["method"] == "PUT"
    assert put["path"] == f"/ivr/saved.xml/call_recording_{call_id}.mp3"
    assert put["headers"]["content-type"] == "audio/mpeg"
    post = app.seen[2]
    assert (post["method"], post["path"]) == ("POST", "/ivr/saved.xml")
    assert post["form"]["Digits"] == "#"
    assert post["form"]["RecordingDuration"] == "5"
    assert post["form"]["RecordingUrl"] == f"{BASE}/ivr/saved.xml/call_recording_{call_id}.mp3"
    assert t.prompts == ["saved"]
    assert "twiml.record_stored_under_action" in codes(t)
    assert events(t, "recording_upload")[0]["status"] == 201


def test_record_uploads_to_recording_url_when_given() -> None:
    app = record_app('<Record action="saved.xml" recordingUrl="http://files.example/rec/" playBeep="false"/>')
    t = place(app, caller=["#"])
    assert events(t, "beep") == []
    assert events(t, "recording_upload")[0]["url"].startswith("http://files.example/rec/call_recording_")
    assert app.seen[2]["form"]["RecordingUrl"].startswith("http://files.example/rec/call_recording_")


def test_record_upload_refused_by_the_server_is_reported() -> None:
    from flask import Flask, Response

    app = Flask("no_put")

    @app.route("/ivr/record.xml", methods=["GET", "POST"])
    def rec():
        return Response('<Response><Record action="record.xml"/></Response>', mimetype="text/xml")

    t = place(app, f"{BASE}/ivr/record.xml", caller=["#", Hangup()])
    assert events(t, "recording_upload")[0]["status"] == 404
    assert "does not exist" in diag(t, "twiml.record_upload_failed")


def test_the_record_terminator_sticks_to_every_later_request() -> None:
    app = record_app(saved='<Gather numDigits="2" action="menu.xml"><Say>pin</Say></Gather>',
                     menu="<Redirect>end.xml</Redirect>", end="<Hangup/>")
    t = place(app, caller=["#", "12"])
    gather_post = app.seen[3]
    assert gather_post["path"] == "/ivr/menu.xml"
    assert gather_post["form"]["Digits"] == "#"  # not "12"
    assert app.seen[4]["form"]["Digits"] == "#"
    assert "hides every later Gather" in diag(t, "twiml.record_digits_stick")


def test_intended_mode_sends_the_record_terminator_once() -> None:
    app = record_app(saved='<Gather numDigits="2" action="menu.xml"><Say>pin</Say></Gather>', menu="<Hangup/>")
    place(app, caller=["#", "12"], options=Options(faithful=False))
    assert app.seen[3]["form"]["Digits"] == "12"


def test_a_caller_hanging_up_during_record_still_triggers_the_action_with_digits_hangup() -> None:
    app = record_app()
    t = place(app, caller=[Hangup()])
    assert app.seen[-1]["form"]["Digits"] == "hangup"
    assert t.end.reason == "caller_hangup"
    assert t.prompts == []


def test_a_recording_ended_by_silence_after_speech_sends_digits_hangup() -> None:
    app = record_app()
    t = place(app, caller=["1"], fixtures=None)  # "1" is no finish key with finishOnKey="#"... default: all
    assert app.seen[-1]["form"]["Digits"] == "1"  # the default finishOnKey is every digit
    app = record_app('<Record action="saved.xml" finishOnKey="#"/>')
    t = place(app, caller=["1"])
    assert app.seen[-1]["form"]["Digits"] == "hangup"
    assert app.seen[-1]["form"]["RecordingDuration"] == "10"
    assert "twiml.record_digits_hangup" in codes(t)


@pytest.mark.parametrize("caller, duration", [(["#"], "2"), ([Silence()], "2")])
def test_record_max_length_ends_the_recording(caller: list, duration: str) -> None:
    """maxLength="2" stops the recording before the 5 s of speech and before the 5 s silence timeout."""
    app = app_for('<Record maxLength="2" action="done.xml"/>', done="<Hangup/>")
    t = place(app, caller=caller)
    assert events(t, "record_start")[0]["max_length_s"] == 2
    assert events(t, "recorded")[0]["length_s"] == 2
    form = app.seen[-1]["form"]
    assert (form["RecordingDuration"], form["Digits"]) == (duration, "hangup")
    assert "twiml.record_digits_hangup" in codes(t)
    assert t.requests[-1].t_ms == 600 + 2000  # the beep, then maxLength


@pytest.mark.parametrize("attrs", ['maxLength="0"', 'maxLength="4000"', 'timeout="0"'])
def test_record_bad_limits_are_errors(attrs: str) -> None:
    t = place(record_app(f"<Record {attrs}/>"))
    assert t.end.reason == "hangup" and "twiml.bad_attribute" in codes(t)
    assert t.prompts == []


def test_record_with_content_is_an_unknown_element() -> None:
    t = place(record_app("<Record> </Record>"))
    assert "must be empty" in diag(t, "twiml.unknown_element")


def test_record_ignores_twilio_transcription() -> None:
    t = place(record_app('<Record action="saved.xml" transcribe="true"/>'), caller=["#"])
    assert "transcribe" in diag(t, "twiml.ignored_attribute")
