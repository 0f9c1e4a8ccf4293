"""cf_exe and the modules Pivot replies use (contract §3, §9 items 13-18, 29, 30)."""

from __future__ import annotations

from pivot_apps import HANGUP, pivot, replies, tts

import pivotsim
from pivotsim import Caller, Fixtures, Options


def run_flow(flow, caller=None, fixtures=None, options=None, app=None):
    engine = pivotsim.Engine(pivotsim.WSGITransport(app or replies(HANGUP)), options=options)
    return engine.run(flow, caller=Caller(caller or []), fixtures=fixtures)


def test_skip_module_goes_to_default() -> None:
    t = run_flow({"module": "tts", "data": {"text": "skipped", "skip_module": True}, "children": {"_": tts("next")}})
    assert t.prompts == ["next"]
    assert t.events_of("module")[0].details["skipped"] is True


def test_continue_without_default_child_hangs_up() -> None:
    t = run_flow(tts("only"))
    assert t.end.reason == "hangup"
    assert "no '_' child" in t.end.detail


def test_empty_flow_hangs_up() -> None:
    t = run_flow({})
    assert t.end.reason == "hangup"
    assert t.events_of("module") == []


def test_callflow_branch_returns_after_response_but_not_after_hangup() -> None:
    fixtures = Fixtures(callflows={
        "cf-resp": {"flow": {"module": "response", "data": {"code": 480}}},
        "cf-hang": {"flow": HANGUP},
    })
    after = tts("back in the parent")
    t = run_flow({"module": "callflow", "data": {"id": "cf-resp"}, "children": {"_": after}}, fixtures=fixtures)
    assert t.prompts == ["back in the parent"]
    assert t.events_of("sip_response")[0].details["code"] == 480
    t2 = run_flow({"module": "callflow", "data": {"id": "cf-hang"}, "children": {"_": after}}, fixtures=fixtures)
    assert t2.prompts == []
    assert t2.end.reason == "hangup"


def test_response_ends_the_call_with_the_sip_code() -> None:
    t = run_flow({"module": "response", "data": {"code": 503, "message": "Busy Here"}})
    assert t.end.reason == "sip_response"
    assert t.end.sip_code == 503


def test_branch_limit_stops_recursion() -> None:
    fixtures = Fixtures(callflows={"loop": {"flow": {"module": "callflow", "data": {"id": "loop"}}}})
    t = run_flow({"module": "callflow", "data": {"id": "loop"}}, fixtures=fixtures)
    assert "cf_exe.branch_limit" in t.diagnostic_codes()
    assert len(t.events_of("module")) == 51


def test_a_reply_that_pivots_to_itself_forever_hits_the_step_limit() -> None:
    app = replies(pivot("http://pivot.example/again"))
    t = run_flow(pivotsim.pivot_flow("http://pivot.example/again"), app=app, options=Options(max_steps=40))
    assert t.end.reason == "step_limit"
    assert 15 <= len(app.seen) <= 40


def test_collect_dtmf_always_continues_on_default() -> None:
    flow = {"module": "collect_dtmf", "data": {"max_digits": 1},
            "children": {"1": tts("one"), "_": tts("default")}}
    t = run_flow(flow, caller=["1"])
    assert t.prompts == ["default"]


def test_flush_dtmf_is_a_noop_in_faithful_mode_only() -> None:
    def flow():
        return {"module": "tts", "data": {"text": "greeting"},
                "children": {"_": {"module": "flush_dtmf", "data": {},
                                   "children": {"_": pivot("http://pivot.example/next")}}}}

    app = replies(HANGUP)
    t = run_flow(flow(), caller=[pivotsim.TypeAhead("5")], app=app)
    assert app.seen[0]["args"]["Digits[default]"] == ["5"]
    assert "flush_dtmf.noop" in t.diagnostic_codes()
    app2 = replies(HANGUP)
    run_flow(flow(), caller=[pivotsim.TypeAhead("5")], app=app2, options=Options(faithful=False))
    assert "Digits[default]" not in app2.seen[0]["args"]


def _menu(children):
    return {"module": "menu", "data": {}, "children": children}


def test_menu_exact_digits_choose_the_child() -> None:
    t = run_flow(_menu({"1": tts("one"), "12": tts("twelve")}), caller=["12"])
    assert t.prompts[-1] == "twelve"


def test_menu_digit_pressed_over_the_greeting_barges_in_and_selects_the_child() -> None:
    t = run_flow(_menu({"1": tts("one")}), caller=[pivotsim.TypeAhead("1")])
    assert t.events_of("prompt_stopped")[0].details["by"] == "1"
    assert t.events_of("menu_input")[0].details["digits"] == "1"
    assert t.prompts == ["menu-no_prompt", "one"]


def test_menu_timeout_child_is_taken_on_the_first_timeout_and_hash_alone_counts() -> None:
    t = run_flow(_menu({"1": tts("one"), "timeout": tts("timed out")}), caller=["#"])
    assert t.prompts[-1] == "timed out"
    assert len(t.events_of("menu_input")) == 1


def test_menu_invalid_entries_retry_then_exit() -> None:
    t = run_flow(_menu({"1": tts("one"), "_": tts("after")}), caller=["7", "8", "9"])
    assert [e.details["digits"] for e in t.events_of("menu_input")] == ["7", "8", "9"]
    assert t.prompts.count("menu-invalid_entry") == 3
    assert t.prompts[-3:] == ["menu-exit", "menu-transferring_call", "after"]


def test_menu_max_retries_child() -> None:
    t = run_flow(_menu({"1": tts("one"), "max_retries": tts("too many")}), caller=["", "", ""])
    assert t.prompts[-1] == "too many"


def test_menu_document_from_fixtures() -> None:
    fx = Fixtures(menus={"m1": {"retries": 1, "media": {"greeting": "custom-greeting"}}})
    flow = {"module": "menu", "data": {"id": "m1"}, "children": {"2": tts("two")}}
    t = run_flow(flow, caller=["2"], fixtures=fx)
    assert t.prompts == ["custom-greeting", "two"]


def test_user_failure_takes_the_cause_child_or_default() -> None:
    fx = Fixtures(outcomes={"user:u1": "busy"})
    flow = {"module": "user", "data": {"id": "u1"}, "children": {"USER_BUSY": tts("busy"), "_": tts("default")}}
    assert run_flow(flow, fixtures=fx).prompts == ["busy"]
    flow2 = {"module": "user", "data": {"id": "u1"}, "children": {"486": tts("by code"), "_": tts("default")}}
    assert run_flow(flow2, fixtures=fx).prompts == ["by code"]
    flow3 = {"module": "user", "data": {"id": "u1"}, "children": {"_": tts("default")}}
    assert run_flow(flow3, fixtures=fx).prompts == ["default"]


def test_answered_bridge_ends_the_call_as_bridged() -> None:
    t = run_flow({"module": "device", "data": {"id": "d1"}, "children": {"_": tts("never")}})
    assert t.end.reason == "bridged"
    assert t.end.target == "device:d1"
    assert t.prompts == []


def test_carrier_failure_hangs_up_with_the_cause_ignoring_default() -> None:
    fx = Fixtures(outcomes={"offnet": "unallocated"})
    flow = {"module": "resources", "data": {"to_did": "+15550001"}, "children": {"_": tts("never")}}
    t = run_flow(flow, fixtures=fx)
    assert t.end.reason == "hangup"
    assert t.end.hangup_cause == "UNALLOCATED_NUMBER"
    assert t.prompts == []
    assert "resources.no_failure_child" in t.diagnostic_codes()


def test_carrier_failure_inside_a_callflow_branch_returns_to_the_parent() -> None:
    # stop(Cause) pops the branch stack when it is not empty (contract §3.1, §9 item 17)
    fx = Fixtures(outcomes={"offnet": "unallocated"}, callflows={
        "cf-carrier": {"flow": {"module": "resources", "data": {"to_did": "+15550001"},
                                "children": {"_": tts("never")}}}})
    flow = {"module": "callflow", "data": {"id": "cf-carrier"}, "children": {"_": tts("back in the parent")}}
    t = run_flow(flow, fixtures=fx)
    assert t.events_of("bridge_failed")[0].details["cause"] == "UNALLOCATED_NUMBER"
    assert t.events_of("branch_return")
    assert t.prompts == ["back in the parent"]


def test_handoffs_end_the_call() -> None:
    assert run_flow({"module": "conference", "data": {"id": "room1"}}).end.reason == "conference"
    assert run_flow({"module": "transfer", "data": {"target": "2000"}}).end.target == "2000"
    assert run_flow({"module": "voicemail", "data": {"id": "box1"}}).end.reason == "voicemail"
    assert run_flow({"module": "park", "data": {}}).end.reason == "parked"


def test_branch_variable_has_no_cav_scope() -> None:
    flow = {"module": "set_variables", "data": {"custom_application_vars": {"tier": "gold"}},
            "children": {"_": {"module": "branch_variable", "data": {"variable": "tier"},
                               "children": {"gold": tts("gold"), "_": tts("default")}}}}
    t = run_flow(flow)
    assert t.prompts == ["default"]
    assert "branch_variable.no_cav_scope" in t.diagnostic_codes()
    fx = Fixtures(variables={"custom_channel_vars": {"Tier": "gold"}})
    assert run_flow(flow, fixtures=fx).prompts == ["gold"]


def test_temporal_route_uses_the_active_rule() -> None:
    fx = Fixtures(temporal_rules={"r-open": {"active": False}, "r-night": {"active": True}})
    flow = {"module": "temporal_route", "data": {"rules": ["r-open", "r-night"]},
            "children": {"r-night": tts("closed"), "_": tts("open")}}
    assert run_flow(flow, fixtures=fx).prompts == ["closed"]


def test_sleep_advances_virtual_time() -> None:
    t = run_flow({"module": "sleep", "data": {"duration": 3, "unit": "m"}, "children": {"_": tts("awake")}})
    assert t.events_of("prompt")[0].t_ms == 180_000


def test_caller_hangs_up_after_a_virtual_time() -> None:
    engine = pivotsim.Engine(pivotsim.WSGITransport(replies(HANGUP)))
    t = engine.run(tts("a long prompt " * 20), caller=Caller(hangup_after_ms=2500))
    assert t.end.reason == "caller_hangup"
    assert t.end.t_ms == 2500


def test_caller_hangs_up_at_a_prompt() -> None:
    t = run_flow(tts("first", tts("second")), caller=[pivotsim.Hangup()])
    assert t.end.reason == "caller_hangup"
    assert t.prompts == ["first"]
