"""Fixes from the scenario-runner audit: each test fails without its fix."""

from __future__ import annotations

import importlib.util
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from pivotsim.scenario import Runner, load_text
from pivotsim.scenario.cli import keyword_matcher
from pivotsim.scenario.runner import ScenarioResult
from pivotsim.scenario.source import SourceError

REPO = Path(__file__).resolve().parents[2]
BANK = "target: pivotsim.examples.bank:app\n"
GOOD = "scenario: good\n" + BANK + "steps:\n  - press: '1234'\n  - prompt: !re Hello Alice\n"


def one(text: str) -> ScenarioResult:
    (scn,) = load_text(text, "t.pivot.yaml")
    return Runner().run(scn)


def why(r: ScenarioResult) -> str:
    f = r.first_failure
    assert f is not None, [(s.label, s.status) for s in r.steps]
    return f.outcome.message + " | " + "; ".join(mm.describe() for mm in f.outcome.mismatches)


def problems(text: str) -> list[str]:
    with pytest.raises(SourceError) as info:
        load_text(text, "t.pivot.yaml")
    return [str(p) for p in info.value.problems]


# 1. the URL's own query fields are params too


def test_params_hold_the_query_string_of_a_post_voice_url() -> None:
    r = one("scenario: q\ntarget: scenario.apps:query\nsteps:\n"
            "  - request: {path: /}\n"
            "  - request: {path: /order, body_format: form, params: {size: large, Language: [xx, en-us]}}\n"
            "  - prompt: A large pizza.\n")
    assert r.status == "passed", why(r)


def test_with_a_json_body_the_body_wins_over_the_query() -> None:
    r = one("scenario: q\ntarget: scenario.apps:query\nnode: {voice_url: /?fmt=json}\nsteps:\n"
            "  - request: {path: /}\n  - request: {path: /order, body_format: json, params: {size: large, Language: en-us}}\n")
    assert r.status == "passed", why(r)


# 2. a silence stands at the input that timed out


def test_collected_after_silence_is_the_timed_out_collection() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - silence\n  - collected: {how: timeout}\n")
    assert r.status == "passed", why(r)
    t = r.transcript
    assert t is not None and r.steps[1].outcome.event is not None
    assert t.events[r.steps[1].outcome.event].t_ms == 12000  # the first timeout, not the second


def test_silence_twice_stands_at_the_second_timeout() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - silence: 2\n  - collected: {how: timeout}\n"
            "  - prompt: We did not hear a PIN.\n  - silence\n  - collected: {how: timeout}\n"
            "  - prompt: Too many attempts. Goodbye.\n")
    assert r.status == "passed", why(r)
    t = r.transcript
    assert t is not None
    assert [t.events[s.outcome.event].t_ms for s in r.steps if s.kind == "collected"] == [26400, 40800]


def test_the_bundled_silent_caller_checks_the_first_timeout(run_cli, tmp_path: Path) -> None:
    res = run_cli("run", REPO / "scenarios" / "bank.pivot.yaml", "-k", "silent caller", "--json", "r.json")
    assert res.code == 0, res
    (doc,) = json.loads((tmp_path / "r.json").read_text())["scenarios"]
    events = doc["transcript"]["events"]
    hits = [s for s in doc["steps"] if s["kind"] == "collected"]
    assert hits and hits[0]["status"] == "passed"
    first_timeout = next(e for e in events if e["type"] == "collected")
    assert hits[0]["actual"] == {"digits": "", "how": "timeout"} and first_timeout["t_ms"] == 12000
    assert doc["transcript"]["end"]["reason"] == "sip_response"


# 3. max_latency_pct: each request against its own node's budget, named in the headline


def test_latency_pct_names_the_failing_request_and_its_own_budget() -> None:
    r = one("scenario: s\ntarget: scenario.apps:budgets\nend: {max_latency_pct: 10}\nsteps: []\n")
    assert r.status == "failed"
    msg = why(r)
    assert msg.startswith("request 1 (POST http://pivot.example/next) took")
    assert "over its budget of 10 ms (10% of its node's req_timeout_ms 100)" in msg
    assert "requests[0]" not in msg  # the first node's budget is 500 ms: it passed


# 5. -k: adjacent words mean "and"


def test_k_adjacent_words_mean_and(run_cli) -> None:
    assert keyword_matcher("silent caller")("bank::silent caller")
    assert not keyword_matcher("silent caller")("bank::slow caller")
    assert keyword_matcher("caller not slow")("bank::silent caller")
    res = run_cli("run", REPO / "scenarios" / "bank.pivot.yaml", "-k", "silent caller", "--list")
    assert res.code == 0, res
    assert res.out.strip().endswith("::silent caller")


# 6. request headers: only what Kazoo sets, with a hint


def test_a_missing_request_header_explains_what_kazoo_sends() -> None:
    r = one("scenario: s\n" + BANK + "steps:\n  - request: {headers: {Host: pivot.example}}\n")
    assert r.status == "failed"
    assert "headers.host: expected \"pivot.example\", got missing (request headers are the ones Kazoo itself " \
           "sets" in why(r) and "(none on a GET)" in why(r)


# 7. files without scenarios


@pytest.mark.parametrize("text", ["", "# only a comment\n", "defaults:\n  target: x:y\n"])
def test_a_file_without_scenarios_exits_2(write, run_cli, text: str) -> None:
    write("a.pivot.yaml", text)
    res = run_cli("run", "a.pivot.yaml")
    assert res.code == 2, res
    assert "no scenarios in a.pivot.yaml" in res.err


def test_a_file_without_scenarios_beside_others_is_a_warning(write, run_cli) -> None:
    write("a.pivot.yaml", "# nothing yet\n")
    write("b.pivot.yaml", GOOD)
    res = run_cli("run", ".")
    assert res.code == 0, res
    assert "warning: no scenarios in a.pivot.yaml" in res.err


# 8-10. load-time checks, every problem, and messages that name the bad field


def test_request_enums_are_checked_at_load_with_their_line() -> None:
    got = problems("scenario: s\n" + BANK + "steps:\n  - request: {method: PUSH, purpose: nope}\n"
                   "  - request: {method: post}\n")
    assert got == ["t.pivot.yaml:4:23: steps[0].request.method: expected GET or POST (any case), got 'PUSH'",
                   "t.pivot.yaml:4:38: steps[0].request.purpose: expected one of voice_url, twiml_action, "
                   "redirect, cdr or a matcher (!re, !type, !absent, !any) or a ${name} reference, got text 'nope'"]


def test_every_problem_is_reported_even_beside_others() -> None:
    got = problems("scenario: s\n" + BANK + "steps:\n  - pres: '1'\n  - request: {params: {X: !type potato}}\n")
    assert any("steps[0]: unknown key 'pres'" in p for p in got)
    assert any(p.startswith("t.pivot.yaml:5:27:") and "unknown type 'potato'" in p for p in got)
    got = problems("scenario: s\n" + BANK + "steps:\n  - prompt: {text: a, text: b}\n  - pres: '1'\n")
    assert any("duplicate key 'text'" in p for p in got) and any("unknown key 'pres'" in p for p in got)


def test_messages_name_the_bad_field() -> None:
    got = problems("scenario: s\n" + BANK + "steps:\n  - collected: {how: psychic}\n"
                   "  - branch: {key: 1, colour: x}\n")
    assert got[0].startswith("t.pivot.yaml:4:22: steps[0].collected.how: expected one of max_digits, terminator, "
                             "timeout, interdigit_timeout") and got[0].endswith("got text 'psychic'")
    assert got[1] == "t.pivot.yaml:5:22: steps[1].branch: unknown key 'colour'; known keys: key, path"


# 11. report paths are checked before anything runs


@pytest.mark.parametrize("option", ["--junit-xml", "--json"])
def test_an_unwritable_report_path_exits_2_before_running(write, run_cli, option: str) -> None:
    write("a.pivot.yaml", GOOD)
    res = run_cli("run", "a.pivot.yaml", option, "/nonexistent/dir/x.out")
    assert res.code == 2, res
    assert f"{option} /nonexistent/dir/x.out: the folder /nonexistent/dir does not exist" in res.err
    assert "PASS" not in res.out and "internal error" not in res.err


# 12. control characters from the server are escaped in the text report


def test_the_text_report_escapes_control_characters(write, run_cli) -> None:
    path = write("a.pivot.yaml", "scenario: s\ntarget: scenario.apps:escapes\nsteps:\n  - prompt: nope\n")
    res = run_cli("run", path)
    assert res.code == 1, res
    assert "\x1b" not in res.out and "\x07" not in res.out
    assert "\\x1b[2J" in res.out and "\\x07" in res.out


# 13-14. JUnit: bad files get a testcase; classnames are paths


def test_junit_is_written_when_files_do_not_load(write, run_cli, tmp_path: Path) -> None:
    write("calls/a.pivot.yaml", "scenario: s\n" + BANK + "steps:\n  - pres: '1'\n")
    write("calls/b.pivot.yaml", "scenario: s\nsteps: [press: '1'\n")
    write("calls/c.pivot.yaml", GOOD)
    res = run_cli("run", "calls", "--junit-xml", "out.xml")
    assert res.code == 2, res
    root = ET.parse(tmp_path / "out.xml").getroot()
    cases = root.findall("testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [("calls/a", "load"), ("calls/b", "load")]
    errors = [c.find("error") for c in cases]
    assert errors[0] is not None and errors[0].get("message", "").startswith("calls/a.pivot.yaml:4:5: steps[0]")
    assert errors[1] is not None and "YAML syntax error" in errors[1].get("message", "")
    assert root.get("errors") == "2"


def test_junit_classname_is_the_path_without_the_suffix(write, run_cli, tmp_path: Path) -> None:
    write("a.b/c/x.y.pivot.yaml", GOOD)
    res = run_cli("run", ".", "--junit-xml", "out.xml")
    assert res.code == 0, res
    case = ET.parse(tmp_path / "out.xml").getroot().find("testsuite/testcase")
    assert case is not None and case.get("classname") == "a.b/c/x.y" and case.get("name") == "good"


# 15. pytest: check() with a bad step, and --junitxml's message


def test_check_with_a_bad_step_fails_cleanly_at_its_line(pt) -> None:
    pt.pytester.makepyfile(test_x='''
        def test_x(pivotsim):
            call = pivotsim.call("pivotsim.examples.bank:app", press=["1234"])
            call.check("""
            - prompt: !re Welcome
            - promt: x
            """)
    ''')
    r = pt("-q")
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    assert "test_x.py:5:7: steps[1]: unknown key 'promt' (did you mean 'prompt'?)" in out
    assert "SourceError" not in out and "loader.py" not in out


def test_pytest_junitxml_message_is_one_line(pt) -> None:
    pt.pytester.makefile(".pivot.yaml", bank="scenario: bad\n" + BANK + "steps:\n  - press: '1234'\n"
                         "  - prompt: !re Hello Bob\n")
    r = pt("-q", "--junitxml=out.xml")
    r.assert_outcomes(failed=1)
    failure = ET.parse(pt.pytester.path / "out.xml").getroot().find(".//failure")
    assert failure is not None
    message = failure.get("message", "")
    assert message.startswith("prompt at bank.pivot.yaml:5:5: the prompt heard does not match") and "\n" not in message
    assert "FAILED: prompt (step 2 of 2)" in (failure.text or "")


# 17. the benchmark says when Tavern was not checked


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_scenarios", REPO / "benchmarks" / "bench_scenarios.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_scenarios"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_reports_tavern_as_not_checked(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bench = _bench()
    monkeypatch.delenv("TAVERN_PYTHON", raising=False)
    monkeypatch.setattr(bench, "_self_if_tavern", lambda: None)
    monkeypatch.setattr(bench, "timed", lambda cmd, cwd, repeat, n: 1.0)  # the timing itself is not under test
    assert bench.main(["-n", "2", "--repeat", "1", "--check"]) == 0
    assert "NOT CHECKED: tavern not installed (see --help for setup)" in capsys.readouterr().out
    assert bench.main(["-n", "2", "--repeat", "1", "--check", "--require-tavern"]) == 1


# 16. the bundled scenarios use the format's features

# Keys the bundled example server cannot show; features.pivot.yaml's header says so.
NOT_BUNDLED = {
    "connect_to",  # URL targets need a server listening: tests/scenario/test_served_example.py
    "skip",  # a bundled scenario that never runs would be a skipped test: test_runner.py::test_skip
    "kazoo_schemas",  # needs a Kazoo checkout
}


def _schema_keys() -> set[str]:
    keys: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            keys.update(x.get("properties", {}) if isinstance(x.get("properties"), dict) else {})
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(json.loads((REPO / "schemas" / "scenario.schema.json").read_text())["$defs"])
    return keys


def test_the_bundled_scenarios_use_every_key_of_the_format() -> None:
    import re

    text = "\n".join(re.sub(r"(^|\s)#.*", "", p.read_text(), flags=re.M)
                     for p in sorted((REPO / "scenarios").rglob("*.yaml")))
    unused = {k for k in _schema_keys() - NOT_BUNDLED
              if not re.search(r'(^|[\s{,\-])"?' + re.escape(k) + r'"?:', text, re.M)}
    assert not unused, f"keys of scenario.schema.json no bundled scenario uses: {sorted(unused)}"
    for feature in ("!re", "!type", "!absent", "!any", "$${", "fixtures: fixtures/"):
        assert feature in text, feature
    assert re.search(r"include: steps/bank\.steps\.yaml\s*$", text, re.M)  # a whole steps file
