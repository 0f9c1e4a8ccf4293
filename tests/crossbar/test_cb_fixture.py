"""The ``fake_kazoo`` fixture, used the way a Pivot developer's test would use it."""

from __future__ import annotations

import hashlib
import json
import socket
from typing import Any

import pytest
import requests
from flask import Flask, Response, request

from pivotsim.crossbar.testing import FakeKazoo


def dialer(kazoo: str, username: str, password: str, account: str, voice_url: str, contact: str) -> dict[str, Any]:
    """A developer's provisioning code, as it would run against a real Kazoo."""
    creds = hashlib.md5(f"{username}:{password}".encode()).hexdigest()
    auth = requests.put(f"{kazoo}/v2/user_auth",
                        json={"data": {"credentials": creds, "account_name": account}}, timeout=10).json()
    token, acct = auth["auth_token"], auth["data"]["account_id"]
    h = {"X-Auth-Token": token}
    base = f"{kazoo}/v2/accounts/{acct}"
    requests.put(f"{base}/resources", headers=h, timeout=10, json={"data": {
        "name": "carrier", "rules": ["^\\+1\\d{10}$"], "gateways": [{"server": "sip.example.com"}]}}).raise_for_status()
    requests.put(f"{base}/callflows", headers=h, timeout=10, json={"data": {
        "numbers": ["100"], "flow": {"module": "pivot", "data": {"voice_url": voice_url}}}}).raise_for_status()
    c2c = requests.put(f"{base}/clicktocall", headers=h, timeout=10,
                       json={"data": {"name": "Survey", "extension": "100"}}).json()["data"]
    return requests.get(f"{base}/clicktocall/{c2c['id']}/connect", headers=h, params={"contact": contact},
                        timeout=30).json()


def survey_app() -> Flask:
    """A Pivot server: asks for a digit, thanks the caller for it."""
    app = Flask("survey")
    app.seen = []  # type: ignore[attr-defined]

    @app.route("/ivr")
    def ivr() -> Response:
        app.seen.append(request.args.to_dict())  # type: ignore[attr-defined]
        digit = request.args.get("Digits[score]")
        if digit is None:
            node = {"module": "collect_dtmf", "data": {"collection_name": "score", "max_digits": 1},
                    "children": {"_": {"module": "pivot", "data": {"voice_url": "http://survey.example/ivr"}}}}
        else:
            node = {"module": "tts", "data": {"text": f"You gave {digit}"}}
        return Response(json.dumps(node), content_type="application/json")

    return app


def test_a_developers_dialer_against_the_fixture(fake_kazoo: FakeKazoo) -> None:
    app = survey_app()
    fake_kazoo.pivot(app)
    fake_kazoo.caller("+12223334444", ["7"])
    answer = dialer(fake_kazoo.url, "john", "12345", "pivotsim", "http://survey.example/ivr", "2223334444")
    assert answer["status"] == "success" and answer["data"]["call_id"].startswith("c2c-")
    assert [s.get("Digits[score]") for s in app.seen] == [None, "7"]  # type: ignore[attr-defined]
    (call,) = fake_kazoo.calls()
    assert call["end"]["reason"] == "hangup"
    assert any(e.get("text") == "You gave 7" for e in call["events"])


def test_fixture_shortcuts(fake_kazoo: FakeKazoo) -> None:
    token = fake_kazoo.token()
    me = fake_kazoo.api("GET", "/v2/token_auth", token=token)
    assert me["data"]["account_id"] == fake_kazoo.account_id
    assert fake_kazoo.credentials() == hashlib.md5(b"john:12345").hexdigest()
    r = requests.put(f"{fake_kazoo.url}/v2/api_auth", json={"data": {"api_key": fake_kazoo.api_key()}}, timeout=10)
    assert r.status_code == 201
    fake_kazoo.seed({"accounts": [{"name": "pivotsim", "users": ["amy:pw"]}]})
    assert fake_kazoo.token("amy", "pw")


def test_fixture_without_a_pivot_target_uses_http(fake_kazoo: FakeKazoo) -> None:
    """With no ``pivot()``, Pivot requests go over HTTP: here to the fake itself, which 404s them."""
    answer = dialer(fake_kazoo.url, "john", "12345", "pivotsim", fake_kazoo.url + "/nothing", "2223334444")
    assert answer["status"] == "success"
    (call,) = fake_kazoo.calls()
    assert call["requests"][0]["status"] == 404


def test_a_fake_can_be_made_directly_and_kept_in_memory() -> None:
    fake = FakeKazoo(serve=False, seed={"accounts": [{"name": "solo", "users": ["u:p"]}]})
    try:
        assert fake.url == ""
        assert fake.token("u", "p", "solo")
    finally:
        fake.close()


# -- virtual time: expiring tokens -------------------------------------------------------


def test_advance_expires_a_token_with_kazoos_401(fake_kazoo: FakeKazoo) -> None:
    token = fake_kazoo.token()
    url = f"{fake_kazoo.url}/v2/accounts/{fake_kazoo.account_id}"
    assert requests.get(url, headers={"X-Auth-Token": token}, timeout=10).status_code == 200
    fake_kazoo.advance(3599)
    assert requests.get(url, headers={"X-Auth-Token": token}, timeout=10).status_code == 200
    fake_kazoo.advance(2)  # 3601 s in all: past Kazoo's default token_auth_expiry_s
    r = requests.get(url, headers={"X-Auth-Token": token}, timeout=10)
    assert r.status_code == 401
    body = r.json()
    assert (body["error"], body["message"], body["data"]) == ("401", "invalid credentials", {})
    assert fake_kazoo.api("GET", f"/accounts/{fake_kazoo.account_id}")["status"] == "success"  # a new token works


def test_token_ttl_is_settable_and_applies_to_new_tokens(fake_kazoo: FakeKazoo) -> None:
    old = fake_kazoo.token()
    fake_kazoo.token_ttl = 60
    assert fake_kazoo.token_ttl == 60
    short = fake_kazoo.token()
    before = fake_kazoo.now()
    fake_kazoo.advance(61)
    assert fake_kazoo.now() >= before + 61
    assert fake_kazoo.api("GET", "/v2/token_auth", token=short)["error"] == "401"
    assert fake_kazoo.api("GET", "/v2/token_auth", token=old)["status"] == "success"
    for bad in (0, -5, True):
        with pytest.raises(ValueError):
            fake_kazoo.token_ttl = bad
    with pytest.raises(ValueError):
        fake_kazoo.advance(-1)


def test_a_fixture_clock_is_advanced_too() -> None:
    fake = FakeKazoo(serve=False, clock=lambda: 1_780_000_000.0, token_ttl=10)
    try:
        token = fake.token()
        fake.advance(10)
        assert fake.now() == 1_780_000_010.0
        assert fake.api("GET", "/v2/token_auth", token=token)["message"] == "invalid credentials"
    finally:
        fake.close()


# -- api(): with or without /v2 ----------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/v2/", "/", "v2/", ""])
def test_api_paths_with_or_without_v2(fake_kazoo: FakeKazoo, prefix: str) -> None:
    body = fake_kazoo.api("GET", f"{prefix}accounts/{fake_kazoo.account_id}")
    assert body["status"] == "success" and body["data"]["id"] == fake_kazoo.account_id


def test_api_keeps_v1_which_is_gone(fake_kazoo: FakeKazoo) -> None:
    assert fake_kazoo.api("GET", f"/v1/accounts/{fake_kazoo.account_id}")["error"] == "410"


# -- which caller script applied ---------------------------------------------------------


def provision(fake_kazoo: FakeKazoo, voice_url: str = "http://anything.example/ivr") -> str:
    acct = fake_kazoo.account_id
    fake_kazoo.api("PUT", f"/accounts/{acct}/resources",
                   {"name": "c", "rules": ["^\\+1\\d{10}$"], "gateways": [{"server": "gw.example.com"}]})
    fake_kazoo.api("PUT", f"/accounts/{acct}/callflows",
                   {"numbers": ["100"], "flow": {"module": "pivot", "data": {"voice_url": voice_url}}})
    c2c = fake_kazoo.api("PUT", f"/accounts/{acct}/clicktocall", {"name": "Survey", "extension": "100"})["data"]
    return f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/connect"


def test_each_call_says_which_caller_script_applied(fake_kazoo: FakeKazoo, caplog: pytest.LogCaptureFixture) -> None:
    fake_kazoo.pivot(survey_app())
    fake_kazoo.caller("+12223334444", ["7"])
    fake_kazoo.caller("+112223334444", ["9"])  # a typo: this contact is never dialled
    connect = provision(fake_kazoo)
    token = fake_kazoo.token()
    ok = fake_kazoo.client.get(connect, query_string={"contact": "2223334444"}, headers={"X-Auth-Token": token})
    assert "X-Pivotsim-Warning" not in ok.headers
    with caplog.at_level("WARNING", logger="pivotsim.crossbar"):
        missed = fake_kazoo.client.get(connect, query_string={"contact": "3334445555"}, headers={"X-Auth-Token": token})
    assert missed.headers["X-Pivotsim-Warning"] == "no caller script for contact +13334445555: it answers silently"
    assert "no caller script for contact +13334445555" in caplog.text and "+112223334444" in caplog.text
    given = fake_kazoo.client.get(connect, query_string={"contact": "3334445555", "pivotsim_caller": "busy"},
                                  headers={"X-Auth-Token": token})
    assert "X-Pivotsim-Warning" not in given.headers
    first, second, third = (c["pivotsim_crossbar"] for c in fake_kazoo.calls())
    assert (first["contact"], first["contact_script_source"]) == ("+12223334444", "callers[+12223334444]")
    assert (second["contact"], second["contact_script_source"]) == ("+13334445555", "none")
    assert (third["contact_script_source"], third["contact_script"]["outcome"]) == ("pivotsim_caller", "busy")
    assert "pivotsim_caller" not in fake_kazoo.calls()[2]["call"]["custom_application_vars"]


def test_default_caller_is_named_and_does_not_warn(fake_kazoo: FakeKazoo) -> None:
    fake_kazoo.seed({"callers": {"+19998887777": ["1"]}, "default_caller": ["2"]})
    connect = provision(fake_kazoo)
    r = fake_kazoo.client.get(connect, query_string={"contact": "2223334444"},
                              headers={"X-Auth-Token": fake_kazoo.token()})
    assert "X-Pivotsim-Warning" not in r.headers
    (call,) = fake_kazoo.calls()
    assert call["pivotsim_crossbar"]["contact_script_source"] == "default_caller"


# -- documented behaviour ----------------------------------------------------------------


def test_connect_is_synchronous_in_the_fixture(fake_kazoo: FakeKazoo) -> None:
    fake_kazoo.pivot(survey_app())
    connect = provision(fake_kazoo)
    r = requests.get(fake_kazoo.url + connect, params={"contact": "2223334444"},
                     headers={"X-Auth-Token": fake_kazoo.token()}, timeout=30)
    assert r.json()["data"]["application_name"] == "transfer"  # the originate request, not the history item
    assert len(fake_kazoo.calls()) == 1  # already run: nothing to wait for


def test_pivot_routes_every_voice_url_host_to_the_app(fake_kazoo: FakeKazoo) -> None:
    app = survey_app()
    fake_kazoo.pivot(app)
    connect = provision(fake_kazoo, "http://no-such-host.invalid:9/ivr")
    fake_kazoo.api("GET", connect + "?contact=2223334444")
    assert app.seen  # type: ignore[attr-defined]
    (call,) = fake_kazoo.calls()
    first = call["requests"][0]
    assert first["url"].startswith("http://no-such-host.invalid:9/ivr?") and first["status"] == 200


def test_an_unreachable_voice_url_is_still_a_successful_originate(fake_kazoo: FakeKazoo) -> None:
    """crossbar-facts 5.2: the originate succeeds on NORMAL_CLEARING; Pivot's failure is not its result."""
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    connect = provision(fake_kazoo, f"http://127.0.0.1:{port}/ivr")
    item = fake_kazoo.api("POST", connect, {"contact": "2223334444", "blocking": True})["data"]
    assert item["result"] == "success" and item["call_id"].startswith("c2c-")
    (call,) = fake_kazoo.calls()
    assert call["requests"][0]["outcome"] == "no_reply"
    assert any(e["type"] == "pivot_wait_expired" and e["waited_ms"] == 10000 for e in call["events"])
    assert call["end"]["reason"] == "hangup"


def test_failed_logins_cost_35_tokens_and_never_429(fake_kazoo: FakeKazoo) -> None:
    bad = {"data": {"credentials": fake_kazoo.credentials("john", "wrong"), "account_name": "pivotsim"}}
    seen = []
    for _ in range(4):
        r = fake_kazoo.client.put("/v2/user_auth", json=bad)
        assert r.status_code == 401
        seen.append(r.get_json()["tokens"])
    assert seen == [{"consumed": 35, "remaining": 65}, {"consumed": 35, "remaining": 30},
                    {"consumed": 35, "remaining": 0}, {"consumed": 35, "remaining": 0}]
    fake_kazoo.advance(10)  # 10 tokens a second refill the bucket
    r = fake_kazoo.client.put("/v2/user_auth", json=bad)
    assert r.get_json()["tokens"] == {"consumed": 35, "remaining": 65}
