"""`pivotsim run`: exit codes, selection, and the text, JSON and JUnit XML reports."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pivotsim.scenario import Runner, load_text
from pivotsim.scenario.cli import keyword_matcher
from pivotsim.scenario.reporters import TextReporter, junit_document

BANK = "target: pivotsim.examples.bank:app\n"
GOOD = "scenario: good\n" + BANK + "tags: [smoke]\nsteps:\n  - press: '1234'\n  - prompt: !re Hello Alice\n"
BAD = "scenario: bad\n" + BANK + "steps:\n  - press: '1234'\n  - prompt: !re Hello Bob\n"
REPO = Path(__file__).resolve().parents[2]


def test_all_passed_exits_0(write, run_cli) -> None:
    write("a.pivot.yaml", GOOD)
    r = run_cli("run", "a.pivot.yaml")
    assert r.code == 0, r
    assert "PASS  good" in r.out and "1 scenario: 1 passed" in r.out
    assert "\r" not in r.err  # no progress bar when stderr is not a terminal


def test_a_failure_exits_1_and_shows_the_step_line_and_diff(write, run_cli) -> None:
    write("a.pivot.yaml", GOOD + "---\n" + BAD)
    r = run_cli("run", ".")
    assert r.code == 1, r
    assert "FAIL  bad" in r.out
    assert "FAILED: prompt (step 2 of 2) at a.pivot.yaml:12:5" in r.out
    assert "> 12 |   - prompt: !re Hello Bob" in r.out
    assert "diff (- expected, + actual):" in r.out and '+"Hello Alice.' in r.out
    assert "the call:" in r.out and "failed:\n  a.pivot.yaml::bad  (a.pivot.yaml:12:5)" in r.out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scenario: s\nsteps: [press: '1'\n", "a.pivot.yaml:3:1: YAML syntax error"),
        ("scenario: s\n" + BANK + "steps:\n  - pres: '1'\n", "a.pivot.yaml:4:5: steps[0]: unknown key 'pres'"),
        ("scenario: s\n" + BANK + "steps:\n  - press: [1]\n", "a.pivot.yaml:4:12: steps[0].press: expected"),
        ("scenario: s\nsteps: []\n", "a.pivot.yaml:1:1: scenario 's' has no target"),
    ],
)
def test_malformed_files_exit_2_with_line_numbers_and_run_nothing(write, run_cli, text: str, message: str) -> None:
    write("a.pivot.yaml", text)
    write("b.pivot.yaml", GOOD)
    r = run_cli("run", ".")
    assert r.code == 2, r
    assert message in r.err and "nothing was run" in r.err
    assert "PASS" not in r.out


def test_other_bad_input_exits_2(write, run_cli) -> None:
    write("a.pivot.yaml", GOOD)
    assert run_cli("run", "missing.pivot.yaml").code == 2
    r = run_cli("run", "a.pivot.yaml", "-k", "nothing-matches")
    assert r.code == 2 and "selects no scenario" in r.err
    assert run_cli("run", "a.pivot.yaml", "-k", "(good").code == 2
    assert run_cli("run", "a.pivot.yaml", "--var", "1x=2").code == 2
    write("t.pivot.yaml", "scenario: t\ntarget: no_such_module:app\nsteps: []\n")
    r = run_cli("run", "t.pivot.yaml")
    assert r.code == 2 and "ERROR" in r.out and "t.pivot.yaml:1:1: cannot import 'no_such_module'" in r.out


def test_keyword_selection_list_var_and_target(write, run_cli) -> None:
    write("a.pivot.yaml", GOOD + "---\n" + BAD + "---\nscenario: param\n" + BANK
          + "parametrize: [{pin: '1234'}, {pin: '4321'}]\nsteps: [press: '${pin}']\n")
    r = run_cli("run", ".", "--list", "-k", "smoke or (param and not 4321)")
    assert r.out.split() == ["a.pivot.yaml::good", "a.pivot.yaml::param[1234]"]
    r = run_cli("run", ".", "-k", "bad", "--var", "x=1")
    assert r.code == 1
    write("v.pivot.yaml", "scenario: v\n" + BANK + "steps:\n  - press: ${pin}\n  - prompt: !re Hello ${who}\n")
    assert run_cli("run", "v.pivot.yaml", "--var", "pin=4321", "--var", "who=Bob").code == 0
    write("w.pivot.yaml", "scenario: w\ntarget: http://nowhere.invalid/\nsteps:\n  - prompt: !re Welcome\n")
    assert run_cli("run", "w.pivot.yaml", "--target", "pivotsim.examples.bank:app").code == 0


def test_fail_fast_stops_after_the_first_failure(write, run_cli) -> None:
    write("a.pivot.yaml", BAD + "---\n" + GOOD)
    r = run_cli("run", "a.pivot.yaml", "-x")
    assert r.code == 1 and "PASS" not in r.out and "1 not run (--fail-fast)" in r.out


def test_verbose_lists_steps_and_quiet_only_failures(write, run_cli) -> None:
    write("a.pivot.yaml", GOOD + "---\n" + BAD)
    r = run_cli("run", "a.pivot.yaml", "-v")
    assert "passed  line 5    press '1234'" in r.out
    r = run_cli("run", "a.pivot.yaml", "-q")
    assert "PASS" not in r.out and "FAIL  bad" in r.out


def test_progress_bar_on_a_terminal_only() -> None:
    class TTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    scenarios = load_text(GOOD + "---\n" + BAD, "a.pivot.yaml")
    out, err = io.StringIO(), TTY()
    rep = TextReporter(out, err=err)
    rep.start(scenarios)
    Runner().run_all(scenarios, on_start=rep.scenario_started, on_result=rep.scenario_done)
    assert "[" in err.getvalue() and "2/2" in err.getvalue() and "\r\033[K" in err.getvalue()
    quiet_err = TTY()
    rep = TextReporter(io.StringIO(), err=quiet_err, progress=False)
    rep.start(scenarios)
    Runner().run_all(scenarios, on_start=rep.scenario_started, on_result=rep.scenario_done)
    assert quiet_err.getvalue() == ""


def test_json_report_has_results_steps_and_transcripts(write, run_cli, tmp_path) -> None:
    write("a.pivot.yaml", GOOD + "---\n" + BAD)
    r = run_cli("run", "a.pivot.yaml", "--json", "out.json")
    doc = json.loads((tmp_path / "out.json").read_text())
    assert r.code == 1 and doc["pivotsim_results"] == 1
    assert doc["summary"] == {**doc["summary"], "scenarios": 2, "passed": 1, "failed": 1}
    bad = doc["scenarios"][1]
    assert bad["id"] == "a.pivot.yaml::bad" and bad["status"] == "failed"
    step = bad["steps"][1]
    assert step["at"] == {"file": "a.pivot.yaml", "line": 12, "col": 5}
    assert step["expected"] == {"$re": "Hello Bob"} and step["mismatches"][0]["path"] == "prompt"
    assert bad["transcript"]["pivotsim_transcript"] == 1 and len(bad["transcript"]["requests"]) == 2


# -- JUnit XML ------------------------------------------------------------------------------------

# The structure CI tools read (Jenkins' junit schema, as GitLab, GitHub reporters, Azure read it).
_ALLOWED = {
    "testsuites": ({"name", "tests", "failures", "errors", "skipped", "time"}, {"testsuite"}),
    "testsuite": ({"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname"},
                  {"testcase", "properties", "system-out", "system-err"}),
    "testcase": ({"name", "classname", "time", "file", "line"}, {"failure", "error", "skipped", "system-out",
                                                                   "system-err"}),
    "failure": ({"message", "type"}, set()),
    "error": ({"message", "type"}, set()),
    "skipped": ({"message"}, set()),
    "system-out": (set(), set()),
}


def check_junit(root: ET.Element) -> None:
    def walk(el: ET.Element) -> None:
        attrs, kids = _ALLOWED[el.tag]
        assert set(el.attrib) <= attrs, (el.tag, el.attrib)
        for child in el:
            assert child.tag in kids, (el.tag, child.tag)
            walk(child)

    assert root.tag == "testsuites"
    walk(root)
    for suite in root:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", -1)) == len(cases)
        assert int(suite.get("failures", -1)) == len(suite.findall("testcase/failure"))
        assert int(suite.get("errors", -1)) == len(suite.findall("testcase/error"))
        assert int(suite.get("skipped", -1)) == len(suite.findall("testcase/skipped"))
        for case in cases:
            float(case.get("time", "x"))
            assert case.get("name") and case.get("classname")
            for f in case.findall("failure") + case.findall("error"):
                assert f.get("message") and "\n" not in f.get("message", "")
    assert int(root.get("tests", -1)) == sum(int(s.get("tests", 0)) for s in root)


def test_junit_xml_has_one_testcase_per_scenario(write, run_cli, tmp_path) -> None:
    write("calls/a.pivot.yaml", GOOD + "---\n" + BAD)
    write("calls/b.pivot.yaml", "scenario: p\n" + BANK + "parametrize: [{pin: '1234'}, {pin: '4321'}]\n"
          "steps: [press: '${pin}']\n---\nscenario: skipped\n" + BANK + "skip: later\nsteps: []\n"
          "---\nscenario: broken target\ntarget: nope_module:app\nsteps: []\n")
    r = run_cli("run", "calls", "--junit-xml", "report.xml")
    assert r.code == 2
    root = ET.parse(tmp_path / "report.xml").getroot()
    check_junit(root)
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["good", "bad", "p[1234]", "p[4321]", "skipped", "broken target"]
    assert {c.get("classname") for c in cases} == {"calls/a", "calls/b"}
    bad = cases[1]
    failure = bad.find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("prompt at calls/a.pivot.yaml:12:5: the prompt heard does not match")
    assert "diff (- expected, + actual)" in (failure.text or "")
    assert "Hello Alice" in (bad.findtext("system-out") or "")
    assert cases[4].find("skipped") is not None and cases[5].find("error") is not None
    assert root.get("tests") == "6" and root.get("failures") == "1" and root.get("errors") == "1"


def test_junit_text_is_always_valid_xml() -> None:
    scenarios = load_text("scenario: \"odd \\x01 name <&>\"\n" + BANK + "steps:\n  - prompt: \"\\x02\"\n", "x.pivot.yaml")
    results = Runner().run_all(scenarios)
    root = junit_document(results)
    ET.fromstring(ET.tostring(root))
    check_junit(root)


def test_keyword_expressions() -> None:
    match = keyword_matcher("a and not (b or c)")
    assert match("xa") and not match("ab") and not match("ac")
    for bad in ("", "a and", "(a", "a )", "or a"):
        with pytest.raises(ValueError):
            keyword_matcher(bad)


def test_the_bundled_scenarios_pass(run_cli) -> None:
    r = run_cli("run", "scenarios", "--junit-xml", "/dev/null", cwd=REPO)
    assert r.code == 0, r
    assert " passed in" in r.out and "skipped" not in r.out and "FAIL" not in r.out
    assert "scenarios/support.pivot.yaml" in r.out  # the TwiML example runs too
