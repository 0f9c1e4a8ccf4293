"""``pivotsim call --req-format twiml``: cdr_url and safe parsing from the command line."""

from __future__ import annotations

import json

from apps import twiml_cli_apps

from pivotsim.cli import main

IVR = "apps.twiml_cli_apps:ivr"
LAUGHS = "apps.twiml_cli_apps:laughs"
CDR = "http://pivot.example/cdr"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_call_with_a_cdr_url_posts_the_cdr_when_the_caller_hangs_up(capsys) -> None:
    twiml_cli_apps.cdrs.clear()
    code, out, err = run_cli(capsys, "call", IVR, "--req-format", "twiml", "--cdr-url", CDR,
                             "--press", "1", "--hangup-after-ms", "30000")
    assert code == 0, err
    assert "Traceback" not in out + err
    assert "[twiml.cdr_url_keeps_call_up]" in out
    lines = out.splitlines()
    post = next(line for line in lines if f">> POST {CDR}" in line)
    assert post.split()[0] == "30.000s"  # the CDR goes out when the channel goes, not at the dead air
    assert lines.index(post) > next(i for i, line in enumerate(lines) if "plays \"Thanks\"" in line)
    assert "END dead_air" in out
    assert len(twiml_cli_apps.cdrs) == 1 and twiml_cli_apps.cdrs[0]["Duration-Seconds"] == "30"


def test_call_with_a_cdr_url_in_json_keeps_the_timeline_in_order(capsys) -> None:
    code, out, err = run_cli(capsys, "call", IVR, "--req-format", "twiml", "--cdr-url", CDR,
                             "--press", "1", "--hangup-after-ms", "30000", "--json")
    assert code == 0, err
    record = json.loads(out)
    cdr = next(r for r in record["requests"] if r["purpose"] == "cdr")
    sent = [e for e in record["events"] if e["type"] == "request" and e["index"] == cdr["index"]]
    assert cdr["t_ms"] == sent[0]["t_ms"] == 30_000
    times = [e["t_ms"] for e in record["events"]]
    assert times == sorted(times)
    assert cdr["req_format"] == "twiml" and dict(cdr["params"])["Duration-Seconds"] == "30"


def test_billion_laughs_is_refused_with_a_diagnostic_and_no_traceback(capsys) -> None:
    code, out, err = run_cli(capsys, "call", LAUGHS, "--req-format", "twiml")
    assert code == 0, err
    assert "Traceback" not in out + err
    assert "[reply.not_recognized]" in out
    assert "billion laughs" in out and "entity 'lol'" in out
    assert "END hangup" in out
    assert "lollol" not in out  # nothing was expanded


def test_billion_laughs_in_json_output(capsys) -> None:
    code, out, _ = run_cli(capsys, "call", LAUGHS, "--req-format", "twiml", "--json")
    assert code == 0
    record = json.loads(out)
    assert record["end"]["reason"] == "hangup"
    refused = [d for d in record["diagnostics"] if d["code"] == "reply.not_recognized"]
    assert refused and "billion laughs" in refused[0]["message"]
