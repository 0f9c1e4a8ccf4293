"""The pytest plugin, tested with pytester: collection, ids, failures, fixtures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

BANK = "target: pivotsim.examples.bank:app\n"
GOOD = "scenario: good\n" + BANK + "tags: [smoke]\nsteps:\n  - press: '1234'\n  - prompt: !re Hello Alice\n"
BAD = "scenario: bad\n" + BANK + "steps:\n  - press: '1234'\n  - prompt: !re Hello Bob\n"


def test_scenario_files_are_collected_one_item_per_scenario_and_row(pt) -> None:
    pt.pytester.makefile(".pivot.yaml", bank=GOOD + "---\nscenario: rows\n" + BANK
                         + "parametrize:\n  columns: [pin]\n  ids: [alice, bob]\n  rows: [['1234'], ['4321']]\n"
                         "steps:\n  - press: ${pin}\n")
    pt.pytester.makefile(".steps.yaml", shared="steps: []\n")  # not a scenario file
    r = pt("--collect-only", "-q")
    r.stdout.fnmatch_lines(["bank.pivot.yaml::good", "bank.pivot.yaml::rows[[]alice[]]",
                            "bank.pivot.yaml::rows[[]bob[]]"])
    assert pt("-q").ret == 0
    r = pt("-q", "-k", "smoke or bob")
    r.assert_outcomes(passed=2, deselected=1)


def test_a_failure_shows_the_step_and_diff_not_a_traceback(pt) -> None:
    pt.pytester.makefile(".pivot.yaml", bank=GOOD + "---\n" + BAD)
    r = pt("-q")
    r.assert_outcomes(passed=1, failed=1)
    out = r.stdout.str()
    assert "FAILED: prompt (step 2 of 2) at bank.pivot.yaml:12:5" in out
    assert "> 12 |   - prompt: !re Hello Bob" in out and "diff (- expected, + actual):" in out
    assert "Traceback" not in out and "runner.py" not in out and "raise ScenarioFailed" not in out
    r.stdout.fnmatch_lines(["*_ bad _*", "FAILED bank.pivot.yaml::bad*"])


def test_a_malformed_file_is_a_collection_error_with_line_numbers(pt) -> None:
    pt.pytester.makefile(".pivot.yaml", bad="scenario: s\n" + BANK + "steps:\n  - pres: '1'\n  - press: x\n")
    pt.pytester.makefile(".pivot.yaml", good=GOOD)
    r = pt("-q")
    assert r.ret == 2
    out = r.stdout.str()
    assert "bad.pivot.yaml:4:5: steps[0]: unknown key 'pres' (did you mean 'press'?)" in out
    assert "bad.pivot.yaml:5:12: steps[1].press: 'x' is not DTMF digits" in out
    assert "Traceback" not in out


def test_skip_errors_and_options(pt) -> None:
    pt.pytester.makefile(".pivot.yaml", s="scenario: later\n" + BANK + "skip: not yet\nsteps: []\n---\n"
                         "scenario: var\n" + BANK + "variables: {who: Bob}\nsteps:\n  - press: '1234'\n"
                         "  - prompt: !re Hello ${who}\n---\nscenario: error\ntarget: nowhere_at_all:app\nsteps: []\n")
    r = pt("-q", "-rs", "--pivotsim-var", "who=Alice")
    r.assert_outcomes(passed=1, skipped=1, failed=1)
    r.stdout.fnmatch_lines(["*s.pivot.yaml:13:1: cannot import 'nowhere_at_all'*", "SKIPPED*s.pivot.yaml*not yet"])
    r = pt("-q", "-k", "error", "--pivotsim-target", "pivotsim.examples.bank:app")
    r.assert_outcomes(passed=1, deselected=2)


def test_junitxml_from_pytest_has_one_testcase_per_scenario(pt) -> None:
    pt.pytester.makefile(".pivot.yaml", bank=GOOD + "---\n" + BAD)
    pt("-q", "--junitxml=out.xml")
    root = ET.parse(pt.pytester.path / "out.xml").getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["good", "bad"]
    failure = cases[1].find("failure")
    assert failure is not None and "Hello Bob" in (failure.text or "")


def test_the_pivotsim_fixture_checks_calls_in_order(pt) -> None:
    pt.pytester.makepyfile(test_fixture="""
        def test_ok(pivotsim):
            call = pivotsim.call("pivotsim.examples.bank:app", press=["1234", "1"])
            call.expect_prompt(pivotsim.re("^Welcome"))
            req = call.expect_request(path="/auth", params={"Digits": {"pin": "1234"}})
            assert req["method"] == "POST" and req["params"]["Digits"] == {"pin": "1234"}
            call.expect_reply(json={"module": "set_variables"})
            call.expect_cavs(customer_id="c-1001")
            call.expect_branch("1")
            call.expect_request(path="/balance", params={"Recording-Url": pivotsim.absent})
            call.expect_prompt(text=pivotsim.re("balance"), source="tts")
            call.expect_end(reason="hangup", requests=3, duration_ms=pivotsim.range(10_000, 30_000))
            call.expect_no_diagnostic(level="error")
            assert len(call.requests) == 3 and call.cavs["customer_name"] == "Alice" and "END" in call.text
            call.rewind().check('''
                - prompt: !re Welcome
                - collected: {collection: pin, digits: "1234"}
            ''')

        def test_bad(pivotsim):
            call = pivotsim.call("pivotsim.examples.bank:app", press=["1234"])
            call.expect_prompt(pivotsim.re("^Welcome"))
            call.expect_request(path="/auth", params={"Digits": {"pin": "9999"}})

        def test_wrong_use(pivotsim):
            call = pivotsim.call("pivotsim.examples.bank:app")
            call.expect_request(pth="/")
    """)
    r = pt("-q")
    r.assert_outcomes(passed=1, failed=2)
    out = r.stdout.str()
    assert "expect_request: request 1 POST /auth does not match" in out
    assert 'params.Digits.pin: expected "9999", got "1234"' in out
    assert "testing.py" not in out  # the helpers' own frames are hidden
    assert "TypeError: expect_request: unknown key 'pth'" in out


def test_the_pivot_server_fixture_serves_canned_replies(pt) -> None:
    pt.pytester.makepyfile(test_canned="""
        def test_canned(pivot_server, pivotsim):
            pivot_server.reply("/", {"module": "tts", "data": {"text": "Hi"},
                                     "children": {"_": {"module": "pivot", "data": {
                                         "voice_url": pivot_server.url("/twiml"), "method": "post",
                                         "req_format": "twiml"}}}})
            pivot_server.reply("/twiml", "<Response><Say>First</Say></Response>")
            call = pivotsim.call(pivot_server.target, caller_id_name="Ann") if False else \\
                pivot_server.call("/")
            call.expect_prompt("Hi")
            call.expect_request(method="POST", path="/twiml", params={"CallerName": pivotsim.any})
            call.expect_reply(content_type="text/xml", twiml=[{"Say": "First"}])
            call.expect_prompt("First")
            seen = pivot_server.requests
            assert [r.method for r in seen] == ["GET", "POST"]
            assert seen[1].params["Direction"] == "inbound"

        def test_turns_and_404(pivot_server, pivotsim):
            pivot_server.reply("/", {"module": "pivot", "data": {"voice_url": pivot_server.url("/again"),
                                     "method": "get", "req_format": "kazoo"}})
            pivot_server.reply("/again", {"module": "pivot", "data": {"voice_url": pivot_server.url("/again"),
                                          "method": "get", "req_format": "kazoo"}}, {"module": "hangup"})
            call = pivotsim.call(pivot_server.target)
            assert [r["path"] for r in call.requests] == ["/", "/again", "/again"]
            call.expect_end(reason="hangup")

            pivot_server.reply("/missing-child", {"module": "pivot", "data": {
                "voice_url": pivot_server.url("/nowhere"), "method": "get", "req_format": "kazoo"}})
            call = pivot_server.call("/missing-child")
            call.expect_request(path="/missing-child")
            call.expect_request(path="/nowhere")
            call.expect_reply(status=404)
    """)
    r = pt("-q")
    r.assert_outcomes(passed=2)
