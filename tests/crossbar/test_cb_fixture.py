"""The ``fake_kazoo`` fixture, used the way a Pivot developer's test would use it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

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
