"""The Pivot request as Kazoo sends it (contract §1, §9 items 13, 14, 19, 20, 21)."""

from __future__ import annotations

from pivot_apps import HANGUP, pivot, replies, scripted_app, tts

import pivotsim
from pivotsim import Caller, CallProperties, TypeAhead


def _collect(name: str | None = None, **data):
    if name:
        data["collection_name"] = name
    return {"module": "collect_dtmf", "data": data}


def test_first_request_is_a_get_with_kazoo_fields(call) -> None:
    app = replies(HANGUP)
    props = CallProperties(caller_id_name="Ana María", caller_id_number="+14155550100",
                           custom_application_vars={"campaign": "spring"}, seed=7)
    t = call(app, call=props)
    seen = app.seen[0]
    args = {k: v[0] for k, v in seen["args"].items()}
    assert seen["method"] == "GET"
    assert args["Api-Version"] == "4.x"
    assert args["Direction"] == "inbound"
    assert args["Caller-ID-Name"] == "Ana María"
    assert args["Custom-Application-Vars[campaign]"] == "spring"
    assert args["Call-ID"] == t.call["call_id"]
    assert "Caller-ID-Name=Ana+Mar%C3%ADa" in seen["query"]
    # Custom-SIP-Headers is {}: an empty segment, hence "&&"
    assert "&&" in seen["query"]
    assert "user-agent" not in seen["headers"]
    assert t.requests[0].params[0] == ["Account-ID", t.call["account_id"]]


def test_cavs_are_always_present_even_empty(call) -> None:
    app = replies(HANGUP)
    call(app, method="post", req_body_format="json")
    body = app.seen[0]["json"]
    assert body["Custom-Application-Vars"] == {}
    assert body["Custom-SIP-Headers"] == {}
    assert app.seen[0]["headers"]["content-type"] == "application/json"


def test_post_form_keeps_the_voice_url_query(call) -> None:
    app = replies(HANGUP)
    call(app, voice_url="http://pivot.example/ivr?tenant=7", method="post")
    seen = app.seen[0]
    assert seen["query"] == "tenant=7"
    assert seen["form"]["Api-Version"] == ["4.x"]
    assert seen["headers"]["content-type"] == "application/x-www-form-urlencoded"


def test_get_appends_to_an_existing_query(call) -> None:
    app = replies(HANGUP)
    t = call(app, voice_url="http://pivot.example/ivr?tenant=7")
    assert t.requests[0].url.startswith("http://pivot.example/ivr?tenant=7&Account-ID=")


def test_user_id_is_a_string_for_one_owner_and_an_array_for_several(call) -> None:
    app = replies(HANGUP)
    call(app, call=CallProperties(user_ids=("u1",)))
    call(app, call=CallProperties(user_ids=("u1", "u2")))
    assert app.seen[0]["args"]["User-ID"] == ["u1"]
    assert app.seen[1]["args"]["User-ID[]"] == ["u1", "u2"]
    assert "User-ID[]=u1&User-ID[]=u2" in app.seen[1]["query"]


def test_form_encoding_keeps_keys_raw_and_encodes_values_like_kazoo(call) -> None:
    # contract §1.7: keys not encoded, "+" for spaces, other bytes %XX, nested [k], arrays []
    props = CallProperties(custom_application_vars={"my key": "a b&c", "n": {"k": ["x y"]}},
                           user_ids=("u1", "u2"))
    app = replies(HANGUP)
    call(app, call=props)
    call(app, call=props, method="post")
    get, post = app.seen
    for raw, parsed in ((get["query"], get["args"]), (post["body"], post["form"])):
        assert "&Custom-Application-Vars[my key]=a+b%26c&" in raw
        assert "&Custom-Application-Vars[n][k][]=x+y&" in raw
        assert "&User-ID[]=u1&User-ID[]=u2" in raw
        assert parsed["Custom-Application-Vars[my key]"] == ["a b&c"]
        assert parsed["Custom-Application-Vars[n][k][]"] == ["x y"]
        assert parsed["User-ID[]"] == ["u1", "u2"]
    assert post["query"] == ""


def test_twiml_request_format_uses_twilio_names_and_no_cavs(call) -> None:
    app = replies(HANGUP)
    call(app, req_format="twiml", call=CallProperties(custom_application_vars={"a": "1"}))
    args = app.seen[0]["args"]
    assert args["ApiVersion"] == ["2010-04-01"]
    assert "CallSid" in args and "AccountSid" in args
    assert "CallStatus" not in args  # absent on the first request
    assert not any(k.startswith("Custom-Application-Vars") for k in args)


def test_digits_is_the_collections_object_and_accumulates(call) -> None:
    def handler(seen):
        n = len(app.seen)
        if n == 1:
            return tts("PIN?", _collect("pin", max_digits=4) | {"children": {"_": pivot("http://pivot.example/2")}})
        if n == 2:
            return _collect(max_digits=2) | {"children": {"_": pivot("http://pivot.example/3")}}
        return HANGUP

    app = scripted_app(handler)
    call(app, caller=["1234", "9"])
    second, third = app.seen[1]["args"], app.seen[2]["args"]
    assert second["Digits[pin]"] == ["1234"]
    assert third["Digits[pin]"] == ["1234"]  # collections persist for the call
    assert third["Digits[default]"] == ["9"]


def test_collect_timeout_stores_an_empty_string(call) -> None:
    app = scripted_app(lambda s: _collect("pin") | {"children": {"_": pivot("http://pivot.example/2")}}
                       if len(app.seen) == 1 else HANGUP)
    t = call(app, caller=[""])
    assert "Digits[pin]=&" in app.seen[1]["query"] or app.seen[1]["query"].endswith("Digits[pin]=")
    assert t.events_of("collected")[0].details == {"collection": "pin", "digits": "", "how": "timeout"}
    assert t.events_of("collected")[0].t_ms == 5000  # the schema's default timeout


def test_type_ahead_lands_in_default_and_moves_to_the_next_collection(call) -> None:
    def handler(seen):
        n = len(app.seen)
        if n == 1:
            return tts("Long greeting here", pivot("http://pivot.example/2"))
        if n == 2:
            return _collect("acct", max_digits=3) | {"children": {"_": pivot("http://pivot.example/3")}}
        return HANGUP

    app = scripted_app(handler)
    t = call(app, caller=Caller([TypeAhead("12"), "3"]))
    assert app.seen[1]["args"]["Digits[default]"] == ["12"]
    assert app.seen[2]["args"]["Digits[acct]"] == ["123"]
    assert "Digits[default]" not in app.seen[2]["args"]  # every collect_dtmf deletes default
    assert t.events_of("prompt_stopped")


def test_type_ahead_is_cut_at_the_first_terminator_before_collecting(call) -> None:
    collect = _collect("x", max_digits=3) | {"children": {"_": pivot("http://pivot.example/2")}}
    app = replies(tts("Enter your code", collect), HANGUP)
    t = call(app, caller=Caller([TypeAhead("1#5"), "9"]))
    # contract §3.3 collect_dtmf step 2: "1#5" is cut to "1", then "9" is collected
    assert t.events_of("type_ahead_used")[0].details["digits"] == "1"
    assert t.events_of("collected")[0].details["digits"] == "19"
    assert app.seen[1]["args"]["Digits[x]"] == ["19"]


def test_menu_digits_are_not_sent_to_pivot(call) -> None:
    def handler(seen):
        if len(app.seen) == 1:
            return {"module": "menu", "data": {}, "children": {"1": pivot("http://pivot.example/2")}}
        return HANGUP

    app = scripted_app(handler)
    call(app, caller=["1"])
    assert not any(k.startswith("Digits") for k in app.seen[1]["args"])


def test_language_module_changes_the_next_request(call) -> None:
    def handler(seen):
        if len(app.seen) == 1:
            return {"module": "language", "data": {"language": "fr-ca"},
                    "children": {"_": pivot("http://pivot.example/2")}}
        return HANGUP

    app = scripted_app(handler)
    call(app)
    assert app.seen[0]["args"]["Language"] == ["en-us"]
    assert app.seen[1]["args"]["Language"] == ["fr-ca"]


def test_set_variables_chains_cavs_into_the_next_request(call) -> None:
    def handler(seen):
        if len(app.seen) == 1:
            return {"module": "set_variables", "data": {"custom_application_vars": {"step": "2", "n": 5}},
                    "children": {"_": pivot("http://pivot.example/2", method="post", req_body_format="json")}}
        return HANGUP

    app = scripted_app(handler)
    t = call(app)
    assert app.seen[1]["json"]["Custom-Application-Vars"] == {"step": "2", "n": 5}
    assert t.cavs == {"step": "2", "n": 5}


def test_null_cav_means_the_request_is_never_sent(call) -> None:
    def handler(seen):
        if len(app.seen) == 1:
            return {"module": "set_variables", "data": {"custom_application_vars": {"gone": None}},
                    "children": {"_": pivot("http://pivot.example/2", tts("failure branch", HANGUP))}}
        return HANGUP

    app = scripted_app(handler)
    t = call(app)
    assert len(app.seen) == 1
    assert t.requests[1].outcome == "not_sent"
    assert "reply.not_sent" in t.diagnostic_codes()
    assert t.prompts == ["failure branch"]
    assert t.events_of("prompt")[0].t_ms == 10_000


def test_same_seed_same_call(call) -> None:
    app = replies(HANGUP)
    a = call(app, call=CallProperties(seed=42)).to_dict()
    b = call(app, call=CallProperties(seed=42)).to_dict()
    c = call(app, call=CallProperties(seed=43)).to_dict()
    for d in (a, b, c):
        for r in d["requests"]:
            r["elapsed_ms"] = 0
    assert a == b
    assert a["call"] != c["call"]


def test_explicit_properties_win_and_empty_name_is_left_out(call) -> None:
    app = replies(HANGUP)
    call(app, call=CallProperties(caller_id_name="", caller_id_number="+15551234", to_user="+15550000"))
    args = app.seen[0]["args"]
    assert "Caller-ID-Name" not in args
    assert args["Caller-ID-Number"] == ["+15551234"]
    assert args["To"] == ["+15550000"] and args["Request"] == ["+15550000"]


def test_place_call_accepts_a_plain_callable() -> None:
    t = pivotsim.place_call(lambda req: {"module": "tts", "data": {"text": "hi"}})
    assert t.prompts == ["hi"]
    assert t.end.reason == "hangup"
