"""Playing scenarios: caller actions, each expectation, the timeline order, variables, end, finally."""

from __future__ import annotations

from pathlib import Path

import pytest

from pivotsim.scenario import Runner, load_text
from pivotsim.scenario.runner import ScenarioResult

from . import apps

BANK = "target: pivotsim.examples.bank:app\n"


def run(text: str, *, base_dir: Path | None = None, **runner_kw: object) -> list[ScenarioResult]:
    runner = Runner(**runner_kw)  # type: ignore[arg-type]
    return [runner.run(s) for s in load_text(text, "t.pivot.yaml", base_dir=base_dir)]


def one(text: str, **kw: object) -> ScenarioResult:
    (r,) = run(text, **kw)
    return r


def statuses(r: ScenarioResult) -> list[tuple[str, str]]:
    return [(s.label, s.status) for s in r.steps]


def failed(r: ScenarioResult) -> str:
    f = r.first_failure
    assert f is not None, statuses(r)
    return f.outcome.message + " | " + "; ".join(m.describe() for m in f.outcome.mismatches)


# -- the happy path and the timeline ------------------------------------------------------------


HAPPY = """
scenario: happy
target: pivotsim.examples.bank:app
steps:
  - prompt: Welcome to Example Bank. Please enter your four digit PIN.
  - press: "1234"
  - request: {method: POST, path: /auth, params: {Digits: {pin: "1234"}}}
  - reply: {json: {module: set_variables}}
  - cavs: {customer_id: c-1001}
  - prompt: !re ^Hello Alice
  - press: "1"
  - branch: "1"
  - request: {path: /balance}
  - prompt: !re ^Your balance
end: {reason: hangup, requests: 3}
"""


def test_the_happy_path_passes_step_by_step() -> None:
    r = one(HAPPY)
    assert r.status == "passed", statuses(r)
    assert [s.status for s in r.steps] == ["passed"] * 12
    assert r.transcript is not None and len(r.transcript.requests) == 3


def test_steps_are_checked_in_call_order() -> None:
    # The /auth request happens before "Hello Alice" is heard, so asking for it after fails.
    r = one(HAPPY.replace("  - request: {method: POST, path: /auth, params: {Digits: {pin: \"1234\"}}}\n", "")
            .replace("  - press: \"1\"\n", "  - request: {path: /auth}\n  - press: \"1\"\n"))
    assert r.status == "failed"
    assert "path: expected \"/auth\", got \"/balance\"" in failed(r)


def test_the_first_failure_stops_the_checks_but_not_end_or_finally() -> None:
    r = one(HAPPY.replace("^Hello Alice", "^Hello Bob")
            + "finally:\n  - no_diagnostic: {level: error}\n")
    got = statuses(r)
    assert ("prompt", "failed") in got
    assert got[-3:] == [("end.reason", "passed"), ("end.requests", "passed"), ("no_diagnostic", "passed")]
    assert [s for s, st in got[6:10]] and all(st == "skipped" for _, st in got[6:10])


def test_a_press_the_call_never_reached_fails() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - press: '0000'\n  - press: '0000'\n  - press: '0000'\n"
            "  - press: '1'\n")
    assert r.status == "failed"
    assert "the caller never got to press '1': no input point was left; the call ended first: sip_response" \
        in failed(r)


def test_a_delayed_action_that_never_happens_is_only_noted() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - press: '0000'\n  - press: '0000'\n  - press: '0000'\n"
            "  - wait: 1s\n  - press: '1'\n")
    assert r.status == "passed"
    assert statuses(r)[-1] == ("press '1'", "noted")


def test_a_wait_longer_than_the_prompt_hangs_up_as_the_prompt_ends() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - press: '1234'\n  - press: '1'\n  - prompt: !re balance\n"
            "  - wait: 60s\n  - hangup\nend: {reason: caller_hangup, duration_ms: 18750}\n")
    assert r.status == "passed", failed(r)


# -- caller actions -------------------------------------------------------------------------------


def test_type_ahead_is_pressed_over_the_prompt() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - type_ahead: '4321'\n"
            "  - event: {type: type_ahead_used, digits: '4321', collection: pin}\n"
            "  - collected: {collection: pin, digits: '4321'}\n  - prompt: !re Hello Bob\n"
            "end: {duration_ms: {max: 30000}}\n")
    assert r.status == "passed", failed(r)


def test_wait_makes_a_press_late_and_the_input_times_out() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - wait: 8s\n  - press: '1234'\n"
            "  - collected: {digits: '', how: timeout}\n  - prompt: We did not hear a PIN.\n")
    assert r.status == "passed", failed(r)
    r = one("scenario: s\n" + BANK + "steps:\n  - wait: 7.9s\n  - press: '1234'\n"
            "  - collected: {digits: '1234'}\n")
    assert r.status == "passed", failed(r)


def test_wait_then_hangup_hangs_up_that_long_into_the_prompt() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - prompt: !re Welcome\n  - wait: 1500ms\n  - hangup\n"
            "end: {reason: caller_hangup, duration_ms: 1500}\n")
    assert r.status == "passed", failed(r)


def test_wait_before_type_ahead_presses_that_far_into_the_prompt() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - wait: 3s\n  - type_ahead: '4321'\n"
            "  - event: {type: type_ahead_used}\n    save: {at: t_ms}\n")
    assert r.status == "passed", failed(r)
    dtmf = [e for e in r.transcript.events if e.type == "dtmf"]  # type: ignore[union-attr]
    assert dtmf[0].t_ms == 3000


def test_silence_moves_past_the_inputs_that_timed_out() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - silence: 2\n  - request: {path: /auth}\n"
            "  - cavs: {pin_attempts: '2'}\n")
    assert r.status == "passed", failed(r)


def test_caller_timing_and_hangup_after_ms() -> None:
    r = one("scenario: s\n" + BANK + "caller: {reaction_ms: 100, digit_interval_ms: 100, hangup_after_ms: 4400}\n"
            "steps:\n  - press: '1234'\nend: {reason: caller_hangup, duration_ms: 4400, requests: 1}\n")
    assert r.status == "passed", failed(r)
    r = one("scenario: s\n" + BANK + "caller: {reaction_ms: 100, digit_interval_ms: 100}\n"
            "steps:\n  - press: '1234'\n  - event: {type: collected}\n    save: {t: t_ms}\n"
            "  - save: {x: end.t_ms}\n")
    assert r.variables["t"] == 4000 + 100 + 300


# -- expectations ---------------------------------------------------------------------------------


def test_request_fields_headers_and_body_formats() -> None:
    r = one("scenario: s\n" + BANK
            + "node: {voice_url: /start, method: post, req_body_format: json}\n"
              "steps:\n  - request:\n      url: !re ^http://pivot.example/start$\n      method: post\n"
              "      body_format: json\n      purpose: voice_url\n      headers: {CONTENT-TYPE: application/json}\n"
              "      params: {Direction: inbound, Custom-Application-Vars: {}}\n"
              "  - press: '1234'\n  - request: {path: /auth, body_format: form, params: {Digits: {pin: '1234'}}}\n")
    assert r.status == "passed", failed(r)


def test_request_params_strict_fails_on_extra_fields() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - request: {strict: true, params: {Direction: inbound}}\n")
    assert r.status == "failed"
    assert "params.Account-ID: expected missing" in failed(r)


def test_reply_kazoo_json_partial_and_strict() -> None:
    base = "scenario: s\n" + BANK + "steps:\n  - press: '1234'\n  - press: '1'\n  - request: {path: /balance}\n"
    ok = one(base + "  - reply: {status: 200, content_type: application/json, outcome: kazoo,"
                    " json: {children: {_: {module: hangup}}}}\n")
    assert ok.status == "passed", failed(ok)
    strict = one(base + "  - reply: {strict: true, json: {module: tts, children: {_: {module: hangup}}}}\n")
    assert "json.data: expected missing" in failed(strict) and "unexpected key (strict)" in failed(strict)


def test_reply_twiml_verbs_and_saving_an_action() -> None:
    text = """
scenario: pizza
target: scenario.apps:pizza
steps:
  - press: "1"
  - request: {method: POST, path: /order}
  - reply:
      content_type: text/xml
      outcome: twiml
      twiml:
        - Gather: {numDigits: "1", method: POST, verbs: [{Say: !re large}]}
        - Say: Goodbye
    save: {action: twiml.0.Gather.action}
  - prompt: {text: "Press 1 for small, 2 for large.", source: !re (?i)say}
  - press: "2"
  - request: {url: "${action}", purpose: twiml_action, params: {Digits: "2"}}
  - prompt: One size 2 pizza coming.
"""
    r = one(text)
    assert r.status == "passed", failed(r)
    bad = one(text.replace("- Say: Goodbye", "- Say: Bye now"))
    assert "twiml" in failed(bad)


def test_menu_and_temporal_fixtures_and_a_transfer() -> None:
    text = """
scenario: hours
target: scenario.apps:pizza
fixtures:
  menus: {main-menu: {media: {greeting: pizza-menu}}}
  media: {pizza-menu: 1200}
  temporal_rules: {open-hours: {active: true}}
steps:
  - prompt: !re ^Pizza Palace
  - prompt: {media: pizza-menu, duration_ms: 1200, source: menu}
  - press: "2"
  - branch: "2"
  - event: {type: temporal_rule, rule: open-hours, active: true}
  - prompt: We are open.
"""
    assert one(text).status == "passed"
    closed = one(text.replace("active: true}}", "active: false}}").replace("We are open.", "We are closed.")
                 .replace("rule: open-hours, active: true", "active: false"))
    assert closed.status == "passed", failed(closed)
    transfer = one("scenario: t\ntarget: scenario.apps:pizza\nsteps:\n  - press: '3'\n"
                   "  - handoff: {to: transfer, target: '+15555550111'}\nend: {reason: transferred,"
                   " target: '+15555550111'}\n")
    assert transfer.status == "passed", failed(transfer)


def test_bridge_expectations_and_outcome_fixtures() -> None:
    base = "scenario: s\n" + BANK + "fixtures: {outcomes: {user:6f1c1b7a9a2d4b5e8c0d1e2f3a4b5c6d: %s}}\n" \
        "steps:\n  - press: '1234'\n  - press: '2'\n  - bridge: %s\nend: {reason: %s}\n"
    assert one(base % ("answered", "{answered: true, target: !re '^user:'}", "bridged")).status == "passed"
    r = one(base % ("no_answer", "{answered: false, cause: NO_ANSWER, code: 480}", "hangup"))
    assert r.status == "passed", failed(r)
    r = one(base % ("busy", "{answered: true}", "hangup"))
    assert "answered: expected true, got false" in failed(r)


def test_cavs_hold_now_or_later_and_show_the_final_ones_on_failure() -> None:
    r = one("scenario: s\n" + BANK + "call: {cavs: {campaign: spring}}\n"
            "steps:\n  - cavs: {campaign: spring, customer_id: !absent }\n  - press: '1234'\n"
            "  - cavs: {customer_id: c-1001, campaign: spring}\n")
    assert r.status == "passed", failed(r)
    r = one("scenario: s\n" + BANK + "steps:\n  - press: '1234'\n  - cavs: {customer_id: c-9}\n")
    assert "never held these CAVs" in failed(r) and 'expected "c-9", got "c-1001"' in failed(r)


def test_diagnostics_found_after_the_cursor_and_none_in_the_whole_call() -> None:
    text = ("scenario: s\n" + BANK + "fixtures: {users: {someone: {}}}\n"
            "steps:\n  - press: '1234'\n  - press: '2'\n  - diagnostic: {code: user.not_found, level: warning}\n"
            "  - prompt: All our agents are busy. Goodbye.\n")
    assert one(text).status == "passed"
    r = one(text + "  - no_diagnostic: {level: warning}\n")
    assert "1 diagnostic(s) match, none should" in failed(r)
    r = one("scenario: s\n" + BANK + "steps:\n  - diagnostic: user.not_found\n")
    assert "no matching diagnostic from the start of the call" in failed(r)


def test_collected_and_branch_bare_values() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - press: '1234'\n  - collected: '1234'\n  - press: 1\n  - branch: 1\n")
    assert r.status == "passed", failed(r)


def test_a_server_error_is_visible_in_reply_and_takes_the_failure_branch() -> None:
    r = one("""
scenario: broken
target: scenario.apps:broken
steps:
  - press: "1"
  - request: {path: /next}
  - reply: {status: 500, outcome: http_status, body: !re Internal Server Error}
  - diagnostic: {code: reply.http_status}
  - prompt: Fallback.
""")
    assert r.status == "passed", failed(r)


# -- variables, save, parametrize, includes ---------------------------------------------------------


def test_save_and_variables_flow_between_steps() -> None:
    r = one("scenario: s\n" + BANK + "variables: {pin: '1234', who: Alice, hello: 'Hello ${who}.'}\n"
            "steps:\n  - request: {}\n    save: {cid: params.Call-ID, first: url}\n  - press: ${pin}\n"
            "  - request: {params: {Call-ID: '${cid}', 'Digits[pin]': '${pin}'}}\n"
            "  - reply: {}\n    save: {tree: json}\n  - prompt: !re ^${hello}\n"
            "  - save: {reason: end.reason, number: call.caller_id_number}\n"
            "end: {reason: '${reason}'}\n")
    # (a saved value in end: end is checked after the steps)
    assert r.status == "passed", failed(r)
    assert r.variables["tree"]["module"] == "set_variables" and r.variables["reason"] == "hangup"
    assert r.variables["first"].startswith("http://pivot.example/?")


def test_a_bad_save_path_is_an_error_with_the_keys_there() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - request: {}\n    save: {x: params.Nope}\n")
    assert r.status == "error"
    assert "params.Nope: params has no key 'Nope' (keys: Account-ID" in r.steps[0].outcome.message


def test_cli_variables_win_and_environment_variables_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANK_TARGET", "pivotsim.examples.bank:app")
    text = ("scenario: s\ntarget: ${env.BANK_TARGET}\nvariables: {pin: '0000'}\n"
            "steps:\n  - press: ${pin}\n  - prompt: !re ^Hello\n")
    assert one(text).status == "failed"
    (scn,) = load_text(text, variables={"pin": "1234"})
    assert Runner(variables={"pin": "1234"}).run(scn).status == "passed"


def test_target_override_and_unloadable_targets() -> None:
    r = one("scenario: s\ntarget: nowhere.module:app\nsteps: []\n")
    assert r.status == "error" and "cannot import 'nowhere.module'" in (r.error or "")
    assert r.error_loc is not None and r.error_loc.line == 1
    r = one("scenario: s\ntarget: nowhere.module:app\nsteps:\n  - prompt: !re Welcome\n",
            target="pivotsim.examples.bank:app")
    assert r.status == "passed"


def test_node_settings_may_come_from_parameters() -> None:
    results = run("scenario: s\n" + BANK + "parametrize: [{method: GET}, {method: post}]\n"
                  "node: {method: '${method}', req_timeout_ms: '${t}'}\nvariables: {t: 1500}\n"
                  "steps:\n  - request: {method: '${method}'}\n")
    assert [r.status for r in results] == ["passed", "passed"], [failed(r) for r in results]
    bad = one("scenario: s\n" + BANK + "variables: {m: put}\nnode: {method: '${m}'}\nsteps: []\n")
    assert bad.status == "error" and "node.method: 'put' is not one of get, post" in (bad.error or "")


def test_parametrized_rows_run_separately() -> None:
    results = run("scenario: s\n" + BANK + "parametrize:\n  columns: [pin, name]\n"
                  "  rows: [['1234', Alice], ['4321', Bob], ['1234', Bob]]\n"
                  "steps:\n  - press: ${pin}\n  - prompt: !re ^Hello ${name}\\.\n")
    assert [(r.scenario.test_name, r.status) for r in results] == [
        ("s[1234-Alice]", "passed"), ("s[4321-Bob]", "passed"), ("s[1234-Bob]", "failed")]


def test_included_steps_report_their_own_file(write) -> None:
    write("pin.steps.yaml", "steps:\n  - press: ${pin}\n  - prompt: !re ^Hello ${name}\n")
    path = write("s.pivot.yaml", "scenario: s\n" + BANK + "steps:\n"
                 "  - include: {file: pin.steps.yaml, with: {pin: '1234', name: Bob}}\n")
    (r,) = [Runner().run(s) for s in load_text(path.read_text(), str(path), base_dir=path.parent)]
    f = r.first_failure
    assert f is not None and f.loc.file.endswith("pin.steps.yaml") and f.loc.line == 3
    assert f.via[0].line == 4


# -- end and finally ----------------------------------------------------------------------------------


def test_end_expectations_each_report_their_own_line() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - press: '0000'\n  - press: '0000'\n  - press: '0000'\n"
            "end:\n  reason: !re ^sip\n  sip_code: 403\n  hangup_cause: NORMAL_CLEARING\n"
            "  detail: !re Too Many\n  duration_ms: {min: 60000}\n  requests: {min: 6, max: 6}\n")
    got = {s.label: (s.status, s.loc.line) for s in r.steps if s.section == "end"}
    assert got == {"end.reason": ("passed", 8), "end.sip_code": ("passed", 9),
                   "end.hangup_cause": ("failed", 10), "end.detail": ("passed", 11),
                   "end.duration_ms": ("failed", 12), "end.requests": ("passed", 13)}


def test_latency_budgets() -> None:
    r = one("scenario: s\ntarget: scenario.apps:slow\nend: {max_latency_ms: 30}\nsteps: []\n")
    assert r.status == "failed" and "requests[0]" in failed(r)
    r = one("scenario: s\ntarget: scenario.apps:slow\nnode: {req_timeout_ms: 100}\n"
            "end: {max_latency_pct: 25}\nsteps: []\n")
    assert "took" in failed(r) and "over its budget of 25 ms (25% of its node's req_timeout_ms 100)" in failed(r)
    assert one("scenario: s\ntarget: scenario.apps:slow\nend: {max_latency_pct: 50}\nsteps: []\n").status == "passed"


def test_finally_runs_http_and_checks_after_a_failure() -> None:
    apps.RESETS.clear()
    r = one("scenario: s\ntarget: scenario.apps:pizza\nsteps:\n  - prompt: nope\n"
            "finally:\n  - http: {path: /reset, json: {all: true}}\n  - prompt: !re Pizza\n"
            "  - http: {method: GET, path: /missing, status: 404}\n  - http: {method: DELETE, path: /missing}\n")
    assert apps.RESETS == [1]
    assert [(s.section, s.status) for s in r.steps] == [
        ("steps", "failed"), ("finally", "passed"), ("finally", "passed"), ("finally", "passed"),
        ("finally", "failed")]
    assert "HTTP 404, expected a 2xx status" in r.steps[-1].outcome.message


def test_skip() -> None:
    r = one("scenario: s\n" + BANK + "skip: not today\nsteps: [hangup]\n")
    assert r.status == "skipped" and r.error == "not today"


def test_connect_to_sends_a_production_url_to_a_local_server() -> None:
    from werkzeug.serving import make_server

    from pivotsim.examples.bank import app

    server = make_server("127.0.0.1", 0, app)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        r = one(f"scenario: s\ntarget: http://bank.example.com/start\n"
                f"connect_to: ['bank.example.com:80:127.0.0.1:{server.server_port}']\n"
                "steps:\n  - request: {url: !re ^http://bank\\.example\\.com/start}\n  - press: '1234'\n"
                "  - request: {url: http://bank.example.com/auth}\n  - prompt: !re Hello Alice\n")
    finally:
        server.shutdown()
    assert r.status == "passed", failed(r)


def test_the_new_user_exercise_passes() -> None:
    """Scenarios written from docs/scenarios.md alone, for an app the other tests never use."""
    path = Path(__file__).with_name("dental.pivot.yaml")
    results = [Runner().run(s) for s in load_text(path.read_text(), str(path), base_dir=path.parent)]
    assert [(r.scenario.name, r.status) for r in results] == [
        ("appointment info", "passed"), ("front desk answers", "passed"),
        ("front desk busy goes to voicemail", "passed"), ("silent caller gives up after three tries", "passed")]
