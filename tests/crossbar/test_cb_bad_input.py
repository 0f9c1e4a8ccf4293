"""Bad input that used to be a 500 or lost silently: lone surrogates, bad caller scripts.

Kazoo's jiffy refuses a ``\\ud800`` escape without its other half (``invalid_string``),
so the request is a 400 ``json.invalid`` and nothing is stored. A caller script the
engine would refuse is checked when it is given (400 on ``connect``, a SeedError at
start, a ValueError from the fixture), and a call whose simulation fails anyway still
leaves a history row.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cb_support import (
    RESOURCE,
    Clock,
    Kz,
    PivotStub,
    assert_error,
    assert_success,
    make_app,
    pivot_callflow,
)

from pivotsim._jiffy import lone_surrogate_at
from pivotsim.crossbar import SeedError
from pivotsim.crossbar.calls import ContactScript, parse_script
from pivotsim.crossbar.testing import FakeKazoo

# -- lone surrogates ---------------------------------------------------------------------


def _invalid_json(r: Any) -> str:
    assert_error(r, 400, "validation error")
    (only,) = r.body["data"]
    assert only == "json" and r.body["data"]["json"]["invalid"]["target"] == "body"
    message: str = r.body["data"]["json"]["invalid"]["message"]
    return message


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\uDBFF\\u0041", "\\ude00\\ud83d", "\\ud800\\ud800\\udc00"])
def test_a_lone_surrogate_is_invalid_json_and_nothing_is_stored(kz: Kz, alpha: tuple[str, str], escape: str) -> None:
    token, acct = alpha
    raw = '{"data":{"name":"' + escape + '","extension":"1"}}'
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw=raw, token=token)
    # jiffy's position, 1-based: where the escape that has no other half starts.
    assert _invalid_json(r) == f"invalid_string around {raw.index(escape) + 1}"
    # Nothing was stored, so the list (and its md5 revision) still renders.
    assert assert_success(kz.call("GET", f"/v2/accounts/{acct}/clicktocall", token=token)) == []


def test_a_lone_surrogate_in_a_key_or_the_api_key(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw='{"data":{"name\\ud800":"a","extension":"1"}}', token=token)
    _invalid_json(r)
    # Not api_key.required with value {}: the body itself is refused, before auth.
    assert _invalid_json(kz.call("PUT", "/v2/api_auth", raw='{"data":{"api_key":"\\udfff"}}')).startswith("invalid_string")
    # The same through curl's form-encoded content type.
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw='{"data":{"name":"\\ud800","extension":"1"}}',
                token=token, content_type="application/x-www-form-urlencoded")
    _invalid_json(r)


def test_proper_pairs_and_escaped_backslashes_are_fine(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    raw = '{"data":{"name":"smile \\ud83d\\ude00 \\\\ud800","extension":"1"}}'
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw=raw, token=token), 201)
    assert doc["name"] == "smile \U0001f600 \\ud800"
    assert assert_success(kz.call("GET", f"/v2/accounts/{acct}/clicktocall", token=token))[0]["name"] == doc["name"]


def test_the_encoder_never_fails_on_a_stored_surrogate(kz: Kz, alpha: tuple[str, str]) -> None:
    """Belt and braces: a document that got a lone surrogate some other way still renders."""
    token, acct = alpha
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "a", "extension": "1"},
                                 token=token), 201)
    stored = dict(kz.cb.store.get(f"account/{acct}", doc["id"]) or {})
    stored["name"] = "bad \ud800"
    kz.cb.store.save(f"account/{acct}", stored)
    one = kz.call("GET", f"/v2/accounts/{acct}/clicktocall/{doc['id']}", token=token)
    assert assert_success(one)["name"] == "bad \ud800"  # written as the \ud800 escape
    assert b"\\ud800" in one.raw
    listed = kz.call("GET", f"/v2/accounts/{acct}/clicktocall", token=token)
    assert assert_success(listed)[0]["name"] == "bad \ud800" and listed.headers["etag"]
    pretty = kz.call("GET", f"/v2/accounts/{acct}/clicktocall", token=token, query="pretty_print=true&jsonp=cb")
    assert pretty.status == 200 and b"\\ud800" in pretty.raw


def test_lone_surrogate_at() -> None:
    assert lone_surrogate_at('"\\ud83d\\ude00"') is None
    assert lone_surrogate_at('"\\\\ud800"') is None
    assert lone_surrogate_at('"ab\\ud800"') == 3
    assert lone_surrogate_at('"\\ud800 \\udc00"') == 1
    assert lone_surrogate_at('"\\n\\udc00"') == 3


# -- caller scripts ----------------------------------------------------------------------


@pytest.fixture
def c2c(kz: Kz, alpha: tuple[str, str]) -> dict[str, Any]:
    token, acct = alpha
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 201)
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow(), token=token), 201)
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "c", "extension": "1"},
                                 token=token), 201)
    base = f"/v2/accounts/{acct}/clicktocall/{doc['id']}"
    return {"token": token, "acct": acct, "connect": f"{base}/connect", "history": f"{base}/history"}


BAD_SCRIPTS = ["nope", "busy,1", "12x", ["1", 2.5], {"outcome": "nope"}, {"digits": ["z"]}, {"outcome": "busy", "when": 1},
               {"hangup_after_ms": -1}, {"cause": 5}]


@pytest.mark.parametrize("blocking", [True, False])
@pytest.mark.parametrize("script", ["nope", "busy,1"])
def test_a_bad_caller_in_the_query_is_a_400(kz: Kz, pivot: PivotStub, c2c: dict[str, Any], script: str,
                                             blocking: bool) -> None:
    r = kz.call("POST", c2c["connect"], {"contact": "2223334444", "blocking": blocking}, token=c2c["token"],
                query=f"pivotsim_caller={script}")
    assert_error(r, 400, "validation error")
    assert "not a DTMF digit" in r.body["data"]["pivotsim_caller"]["invalid"]["message"]
    assert pivot.requests == []  # no call was placed


@pytest.mark.parametrize("script", BAD_SCRIPTS, ids=repr)
def test_a_bad_caller_in_the_body_is_a_400(kz: Kz, pivot: PivotStub, c2c: dict[str, Any], script: Any) -> None:
    r = kz.call("POST", c2c["connect"], {"contact": "2223334444", "pivotsim_caller": script}, token=c2c["token"])
    assert_error(r, 400, "validation error")
    assert set(r.body["data"]) == {"pivotsim_caller"}
    assert pivot.requests == []
    assert assert_success(kz.call("GET", c2c["history"], token=c2c["token"])) == []


@pytest.mark.parametrize("script", BAD_SCRIPTS, ids=repr)
def test_a_bad_caller_in_a_seed_stops_the_start(clock: Clock, pivot: PivotStub, script: Any) -> None:
    with pytest.raises(SeedError, match=re.escape("callers['+12223334444']")):
        make_app(clock, pivot, seed={"callers": {"+12223334444": script}})
    with pytest.raises(SeedError, match="default_caller"):
        make_app(clock, pivot, seed={"default_caller": script})


def test_a_bad_caller_in_a_seed_file_is_serve_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pivotsim.cli import main

    seed = tmp_path / "seed.yaml"
    seed.write_text('callers: {"+12223334444": {outcome: nope}}\n')
    assert main(["serve", "--seed", str(seed), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "callers['+12223334444']" in err and "outcome 'nope'" in err


def test_a_bad_caller_from_the_fixture_raises_at_once(fake_kazoo: FakeKazoo) -> None:
    with pytest.raises(ValueError, match="not a DTMF digit"):
        fake_kazoo.caller("+12223334444", "nope")
    with pytest.raises(ValueError, match="outcome"):
        fake_kazoo.caller("+12223334444", {"outcome": "nope"})
    with pytest.raises(ValueError, match=r"quote it .*0123 as 83"):
        fake_kazoo.caller("+12223334444", [1234, ""])  # a number may have lost digits already
    fake_kazoo.caller("+12223334444", ["0123", ""])
    assert fake_kazoo.crossbar.callers["+12223334444"].actions == ["0123", ""]


def test_a_pin_yaml_read_as_a_number_stops_the_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pivotsim.cli import main

    seed = tmp_path / "seed.yaml"
    seed.write_text("callers:\n  '+12223334444': [0123]\n")
    assert main(["serve", "--seed", str(seed), "--port", "0"]) == 2  # refused before it listens
    assert "the press 83 is a number: quote it" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ContactScript()),
        ("busy", ContactScript(False, "USER_BUSY", "busy")),
        ("No Answer", ContactScript(False, "NO_ANSWER", "no_answer")),
        ("1234,,2", ContactScript(actions=["1234", "", "2"])),
        ({"outcome": "answered", "digits": "1,2", "hangup_after_ms": 5}, ContactScript(actions=["1", "2"],
                                                                                        hangup_after_ms=5)),
    ],
)
def test_good_caller_scripts(value: Any, expected: ContactScript) -> None:
    assert parse_script(value) == expected


def test_a_background_call_that_fails_still_writes_history(clock: Clock, pivot: PivotStub) -> None:
    def broken_engine() -> Any:
        raise RuntimeError("engine exploded")

    kz = Kz(make_app(clock, pivot))
    kz.cb.engine_factory = broken_engine
    token, acct = kz.login()
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 201)
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow(), token=token), 201)
    c2c = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "c", "extension": "1"},
                                 token=token), 201)
    connect = f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/connect"
    history = f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/history"
    for background in (True, False):
        kz.cb.background_calls = background
        assert_success(kz.call("GET", connect, token=token, query="contact=2223334444"))
        assert kz.cb.wait_for_calls()
    blocking = assert_success(kz.call("POST", connect, {"contact": "2223334444", "blocking": True}, token=token))
    assert blocking["result"] == "error" and "engine exploded" in blocking["cause"]
    rows = assert_success(kz.call("GET", history, token=token))
    assert len(rows) == 3
    for row in rows:
        assert row["result"] == "error" and row["cause"].startswith("request failed: ") and "RuntimeError" in row["cause"]


# -- blocking: every non-boolean warns, wherever it comes from ---------------------------


@pytest.mark.parametrize(
    ("where", "value", "blocks"),
    [("query", "yes", False), ("query", "true", True), ("body", "yes", False), ("body", "true", True),
     ("body", 1, False), ("envelope", "yes", False), ("envelope", "true", True)],
)
def test_a_non_boolean_blocking_always_warns(kz: Kz, c2c: dict[str, Any], where: str, value: Any, blocks: bool) -> None:
    kw: dict[str, Any] = {}
    if where == "query":
        kw = {"query": f"contact=2223334444&blocking={value}"}
    elif where == "body":
        kw = {"data": {"contact": "2223334444", "blocking": value}}
    else:
        kw = {"envelope": {"data": {"contact": "2223334444"}, "blocking": value}}
    for method in ("GET", "POST"):
        r = kz.call(method, c2c["connect"], token=c2c["token"], **kw)
        data = assert_success(r)
        assert ("result" in data) is blocks  # the history item when blocking, else the originate request
        assert "blocking must be a JSON boolean" in r.headers["x-pivotsim-warning"]
    r = kz.call("POST", c2c["connect"], {"contact": "2223334444", "blocking": True}, token=c2c["token"])
    assert "x-pivotsim-warning" not in r.headers


def test_json_dumps_sanity() -> None:
    # The property test's bodies rely on json.dumps escaping lone surrogates.
    assert json.dumps("\ud800") == '"\\ud800"'


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ({"outcome": "answered", "digit": "1"}, "unknown caller script key 'digit'"),
        ({"hangup_after_ms": -5}, "hangup_after_ms is a non-negative integer"),
        ({"cause": ""}, "cause is a non-empty string"),
        ({"outcome": "maybe"}, "outcome 'maybe' is not one of"),
    ],
)
def test_bad_caller_script_objects_say_what_is_wrong(script: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_script(script)
