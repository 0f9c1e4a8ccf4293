"""``pivotsim call``: the quickstart command, its options and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pivot_apps import HANGUP, replies, tts

from pivotsim.cli import main

BANK = "pivotsim.examples.bank:app"


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_quickstart_call_against_the_bundled_example(capsys) -> None:
    code, out, err = run_cli(capsys, "call", BANK, "--press", "1234", "--press", "1")
    assert code == 0, err
    assert "Your balance is 1,234.56 dollars" in out
    assert "END hangup" in out
    assert "Digits[pin]=1234" in out


def test_json_output_is_the_transcript_record(capsys) -> None:
    code, out, _ = run_cli(capsys, "call", BANK, "--press", "4321", "--press", "1", "--json", "--seed", "5")
    record = json.loads(out)
    assert code == 0
    assert record["end"]["reason"] == "hangup"
    assert [r["url"].split("?")[0] for r in record["requests"]] == [
        "http://pivot.example/", "http://pivot.example/auth", "http://pivot.example/balance"]
    assert record["final_state"]["custom_application_vars"]["customer_name"] == "Bob"
    prompts = [e["text"] for e in record["events"] if e["type"] == "prompt" and "text" in e]
    assert prompts[-1] == "Your balance is 87.10 dollars. Goodbye."


def test_wrong_pins_end_with_a_sip_403(capsys) -> None:
    code, out, _ = run_cli(capsys, "call", BANK, "--press", "0000", "--press", "1111", "--press", "2222", "--json")
    record = json.loads(out)
    assert record["end"]["reason"] == "sip_response"
    assert record["end"]["sip_code"] == 403
    assert record["requests"][-1]["params"][-1] == ["To-Realm", record["call"]["to_realm"]]


def test_silence_at_the_menu_says_goodbye(capsys) -> None:
    code, out, _ = run_cli(capsys, "call", BANK, "--press", "1234", "--press", "", "--json")
    record = json.loads(out)
    prompts = [e.get("text") or e.get("media") for e in record["events"] if e["type"] == "prompt"]
    assert prompts[-1] == "Goodbye."


def test_caller_options_reach_the_request(capsys) -> None:
    code, out, _ = run_cli(capsys, "call", BANK, "--caller-id-name", "", "--caller-id-number", "+15550100",
                           "--cav", "campaign=spring", "--to", "+15550199", "--hangup", "--json",
                           "--realm", "acme.sip.example.net", "--request", "5550199")
    params = dict(json.loads(out)["requests"][0]["params"])
    assert "Caller-ID-Name" not in params
    assert params["Caller-ID-Number"] == "+15550100"
    assert params["Custom-Application-Vars[campaign]"] == "spring"
    assert params["Request"] == "5550199" and params["To"] == "+15550199"
    assert params["From-Realm"] == params["To-Realm"] == params["Request-Realm"] == "acme.sip.example.net"
    assert json.loads(out)["end"]["reason"] == "caller_hangup"


def test_post_json_and_twiml_format(capsys) -> None:
    code, out, _ = run_cli(capsys, "call", BANK, "--method", "post", "--req-body-format", "json",
                           "--req-format", "twiml", "--hangup-after-ms", "1000", "--json")
    req = json.loads(out)["requests"][0]
    assert req["method"] == "POST"
    assert req["json"]["ApiVersion"] == "2010-04-01"
    assert json.loads(out)["end"]["t_ms"] == 1000


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["call"], "target"),
        (["call", BANK, "--press", "12x"], "'x' is not a DTMF digit"),
        (["call", BANK, "--cav", "novalue"], "KEY=VALUE"),
        (["call", BANK, "--req-timeout-ms", "9000"], "maximum of 5000"),
        (["call", BANK, "--req-timeout-ms", "soon"], "milliseconds"),
        (["call", "no_such_module:app"], "cannot import"),
        (["call", "pivotsim.examples.bank:nope"], "no attribute"),
        (["call", "not-a-target"], "neither a URL nor module:attr"),
        (["call", BANK, "--method", "put"], "invalid choice"),
        (["call", BANK, "--connect-to", "a:b"], "HOST1:PORT1:HOST2:PORT2"),
        (["call", BANK, "--kazoo-schemas", "/nonexistent/dir"], "does not exist"),
        (["call", BANK, "--kazoo-schemas", str(Path(__file__).parent / "apps")], "no callflows.*.json"),
        (["call", BANK, "--connect-to", "x.example:80:127.0.0.1:99999"], "1-65535"),
        (["call", BANK, "--connect-to", "x.example:80:127.0.0.1:-5"], "1-65535"),
        (["call", BANK, "--connect-to", "x.example:80::8080"], "HOST2"),
        (["call", BANK, "--option", "max_steps=-3"], "max_steps must be a whole number of at least 1"),
        (["call", BANK, "--max-steps", "abc"], "'abc' is not a whole number"),
        (["frobnicate"], "invalid choice"),
        ([], "name a command"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, needle) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], err
    assert "Traceback" not in err


def test_bad_fixtures_file_is_a_usage_error(tmp_path, capsys) -> None:
    bad = tmp_path / "fx.yaml"
    bad.write_text("menus:\n  m1: {retries: 2\n")
    code, _, err = run_cli(capsys, "call", BANK, "--fixtures", str(bad))
    assert code == 2 and "fx.yaml:" in err and "invalid YAML" in err
    bad.write_text("colours: {}\n")
    code, _, err = run_cli(capsys, "call", BANK, "--fixtures", str(bad))
    assert code == 2 and "unknown fixture key 'colours'" in err


def test_fixtures_file_drives_simulated_modules(tmp_path, capsys) -> None:
    fx = tmp_path / "fx.yaml"
    fx.write_text("outcomes:\n  user:6f1c1b7a9a2d4b5e8c0d1e2f3a4b5c6d: busy\n")
    code, out, _ = run_cli(capsys, "call", BANK, "--press", "1234", "--press", "2", "--fixtures", str(fx), "--json")
    record = json.loads(out)
    prompts = [e.get("text") for e in record["events"] if e["type"] == "prompt"]
    assert prompts[-1] == "All our agents are busy. Goodbye."


def test_connect_to_keeps_the_production_url(serve, capsys) -> None:
    app = replies(tts("hello from prod", HANGUP))
    with serve(app) as base:
        port = base.rsplit(":", 1)[1]
        code, out, err = run_cli(capsys, "call", "http://ivr.example.com/start", "--connect-to",
                                 f"ivr.example.com:80:127.0.0.1:{port}", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["requests"][0]["url"].startswith("http://ivr.example.com/start?")
    assert app.seen[0]["headers"]["host"] == "ivr.example.com"
    assert "hello from prod" in [e.get("text") for e in record["events"]]


def test_http_target_on_loopback(serve, capsys) -> None:
    from pivotsim.examples.bank import app

    with serve(app) as base:
        code, out, _ = run_cli(capsys, "call", base + "/start", "--press", "1234", "--press", "1", "--json")
    record = json.loads(out)
    assert record["end"]["reason"] == "hangup"
    # nested voice_urls point at 127.0.0.1: Kazoo's blacklist would reject them
    assert any("invalid client URL" in d["message"] for d in record["diagnostics"])
    with serve(app) as base:
        code, out, _ = run_cli(capsys, "call", base + "/start", "--press", "1234", "--kazoo-blacklist", "--json")
    assert json.loads(out)["end"]["reason"] == "dead_air"


def test_module_entry_point_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "pivotsim", "call", BANK, "--press", "1234", "--press", "1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Your balance is" in proc.stdout


KAZOO_SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "kazoo-reference" / "schemas"


@pytest.mark.skipif(not KAZOO_SCHEMAS.is_dir(), reason="Kazoo's schemas are not beside this checkout")
def test_kazoo_schemas_option_validates_with_a_kazoo_checkout(capsys) -> None:
    code, out, err = run_cli(capsys, "call", BANK, "--press", "1234", "--press", "1",
                             "--kazoo-schemas", str(KAZOO_SCHEMAS), "--json")
    assert code == 0, err
    assert json.loads(out)["end"]["reason"] == "hangup"


def test_intended_mode_flag(tmp_path, capsys) -> None:
    app_file = tmp_path / "bad_reply_app.py"
    app_file.write_text(
        "from flask import Flask, jsonify\n"
        "app = Flask(__name__)\n"
        "@app.route('/', methods=['GET', 'POST'])\n"
        "def root():\n"
        "    return jsonify({'module': 'response', 'data': {'code': '486'}})\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        code, out, _ = run_cli(capsys, "call", "bad_reply_app:app", "--json")
        assert json.loads(out)["end"]["reason"] == "dead_air"
        code, out, _ = run_cli(capsys, "call", "bad_reply_app:app", "--intended", "--json")
        assert json.loads(out)["end"]["reason"] == "hangup"  # the pivot node has no _ child
    finally:
        sys.path.remove(str(tmp_path))


def test_engine_options_from_the_command_line(capsys) -> None:
    code, out, _ = run_cli(capsys, "call", "http://127.0.0.1:9/x", "--option", "connect_error=failed",
                           "--option", "pivot_event_wait_ms=8000", "--json")
    assert code == 0
    assert json.loads(out)["requests"][0]["error"].startswith("connect")
    for bad, needle in ((["--option", "nope=1"], "unknown option 'nope'"),
                        (["--option", "max_steps=many"], "not a whole number"),
                        (["--option", "connect_error=sometimes"], "connect_error must be one of")):
        code, _, err = run_cli(capsys, "call", BANK, *bad)
        assert code == 2 and needle in err, err


def test_max_steps_is_a_count_not_a_duration(capsys) -> None:
    code, _, err = run_cli(capsys, "call", BANK, "--max-steps", "abc")
    assert code == 2 and "milliseconds" not in err


def test_a_callable_target_that_crashes_is_a_500_from_the_target(capsys) -> None:
    # os:getcwd takes no request: calling it fails inside the target, as a broken app would.
    code, out, err = run_cli(capsys, "call", "os:getcwd")
    assert code == 0, err
    assert "<< 500" in out and "the target raised TypeError" in out
    assert "pivotsim.internal" not in out


def test_pivotsim_failing_mid_call_exits_3_after_printing_what_was_recorded(capsys, monkeypatch) -> None:
    from pivotsim._modules import REGISTRY

    def broken_tts(ctx, data, children):
        raise RuntimeError("simulated pivotsim bug")

    monkeypatch.setitem(REGISTRY, "tts", broken_tts)
    code, out, err = run_cli(capsys, "call", BANK)
    assert code == 3
    assert ">> GET http://pivot.example/" in out  # the request made before the failure is kept
    assert "pivotsim.internal" in out and "simulated pivotsim bug" in out
    assert err.strip().startswith("pivotsim: internal error during the call") and "Traceback" not in err


def test_a_voice_url_path_is_joined_to_the_target(capsys) -> None:
    code, out, err = run_cli(capsys, "call", "pivotsim.examples.support:app", "--req-format", "twiml",
                             "--voice-url", "/voice", "--press", "1", "-v")
    assert code == 0, err
    assert ">> GET http://pivot.example/voice?" in out
    assert "END conference" in out


def test_a_404_on_the_default_in_process_url_hints_at_voice_url() -> None:
    import pivotsim

    app = replies(("not here", 404))
    t = pivotsim.place_call(app)
    [hint] = [d for d in t.diagnostics if d.code == "pivotsim.default_voice_url"]
    assert "--voice-url /voice" in hint.message and hint.level == "info"
    t = pivotsim.place_call(app, voice_url="/ivr")
    assert t.requests[0].url.startswith("http://pivot.example/ivr?")
    assert "pivotsim.default_voice_url" not in t.diagnostic_codes()  # the user named a route


def test_verbose_shows_the_whole_post_body(capsys) -> None:
    code, out, _ = run_cli(capsys, "call", BANK, "--press", "1234", "--press", "1", "-v")
    body = [line for line in out.splitlines() if line.strip().startswith("body:")][-1]
    assert not body.endswith("...") and "Custom-Application-Vars[customer_name]=Alice" in body


def test_output_a_terminal_cannot_encode_is_escaped_not_fatal(monkeypatch) -> None:
    import io

    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii"))
    code = main(["call", BANK, "--caller-id-name", "Zoë Dupré", "--press", "1234", "--press", "1"])
    sys.stdout.flush()
    assert code == 0
    out = raw.getvalue().decode("ascii")
    assert '"Zo\\xeb Dupr\\xe9"' in out and "END hangup" in out
