"""Durable state (``--state``), seed files, and the ``serve`` command line."""

from __future__ import annotations

import argparse
import re
import textwrap
from pathlib import Path

import pytest
from cb_support import (
    RESOURCE,
    SEED,
    Clock,
    Kz,
    PivotStub,
    assert_error,
    assert_success,
    make_app,
    pivot_callflow,
)

from pivotsim.crossbar import SeedError, load_seed_file
from pivotsim.crossbar.cli import add_serve_arguments, build_app, register, seed_from_args


def test_sqlite_state_survives_a_restart(tmp_path: Path, clock: Clock, pivot: PivotStub) -> None:
    state = str(tmp_path / "kazoo.sqlite")
    kz = Kz(make_app(clock, pivot, state=state))
    token, acct = kz.login()
    res = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 201)
    cf = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow(debug=True), token=token), 201)
    c2c = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "c", "extension": "1"}, token=token), 201)
    call_id = assert_success(kz.call("GET", f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/connect", token=token,
                                     query="contact=12223334444"))["call_id"]
    assert_success(kz.call("DELETE", f"/v2/accounts/{acct}/resources/{res['id']}", token=token))
    kz.cb.store.close()

    again = Kz(make_app(clock, pivot, state=state))  # same seed: nothing is added twice
    assert [a["name"] for a in again.cb.store.of_type("accounts", "account")] == ["Master", "Alpha", "Beta"]
    # The token issued before the restart is still good: the signing secret is in the state.
    got = assert_success(again.call("GET", f"/v2/accounts/{acct}/callflows/{cf['id']}", token=token))
    assert got["flow"]["data"]["debug"] is True
    assert_error(again.call("GET", f"/v2/accounts/{acct}/resources/{res['id']}", token=token), 404, "bad_identifier")
    hist = again.call("GET", f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/history", token=token).data
    assert [h["call_id"] for h in hist] == [call_id]
    assert len(again.call("GET", f"/v2/accounts/{acct}/pivot/debug/{call_id}", token=token).data) == 2
    assert again.call("GET", f"/v2/accounts/{acct}/pivotsim/calls/{call_id}", token=token).data["call"]["call_id"] == call_id
    # Revisions keep counting.
    r = again.call("PATCH", f"/v2/accounts/{acct}/callflows/{cf['id']}", {"name": "x"}, token=token)
    assert r.body["revision"].startswith("2-")


def test_memory_is_the_default(clock: Clock, pivot: PivotStub) -> None:
    kz = Kz(make_app(clock, pivot))
    token, acct = kz.login()
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 201)
    fresh = Kz(make_app(clock, pivot))
    token2, acct2 = fresh.login()
    assert acct2 != acct and fresh.call("GET", f"/v2/accounts/{acct2}/resources", token=token2).data == []
    assert kz.cb.store.path is None


SEED_YAML = textwrap.dedent(
    r"""
    accounts:
      - name: Tutorial
        id: 0123456789abcdef0123456789abcdef
        realm: tutorial.sip.example.com
        api_key: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        users:
          - {username: john, password: "12345"}
        resources:
          - {name: Flowroute, rules: ['^\+?1?\d{10}$'], gateways: [{server: gw.example.com}]}
        callflows:
          - id: cf000000000000000000000000000001
            numbers: ["1"]
            flow: {module: pivot, data: {voice_url: "https://pivot.example.com/cf", debug: true}}
        clicktocall:
          - {name: call_1, extension: "1", auth_required: false}
        accounts:
          - name: Sub
            users: ["sub:pw"]
    callers:
      "+12223334444": ["1234", ""]
      "+13334445555": busy
    """
)


def test_seed_file(tmp_path: Path, clock: Clock, pivot: PivotStub) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(SEED_YAML)
    kz = Kz(make_app(clock, pivot, seed=load_seed_file(str(path))))
    token, acct = kz.login("john", "12345", "Tutorial")
    assert acct == "0123456789abcdef0123456789abcdef"
    cf = assert_success(kz.call("GET", f"/v2/accounts/{acct}/callflows/cf000000000000000000000000000001", token=token))
    assert cf["flow"]["data"]["req_format"] == "kazoo"  # seeded documents get Kazoo's defaults
    (c2c,) = kz.call("GET", f"/v2/accounts/{acct}/clicktocall", token=token).data
    r = kz.call("POST", f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/connect",
                {"contact": "13334445555", "blocking": True})
    assert r.data["cause"] == "USER_BUSY"
    sub_token, sub = kz.login("sub", "pw", "Sub")
    assert kz.cb.store.get("accounts", sub)["pvt_tree"] == [acct]
    assert_success(kz.call("PUT", "/v2/api_auth", {"api_key": "a" * 64}), 201)
    assert_error(kz.call("GET", f"/v2/accounts/{acct}", token=sub_token), 403, "forbidden")


@pytest.mark.parametrize(
    ("seed", "complaint"),
    [
        ({"acounts": []}, "unknown seed key 'acounts'"),
        ({"accounts": [{"users": []}]}, "needs a name"),
        ({"accounts": [{"name": "A", "callflows": [{"numbers": "1"}]}]}, "Kazoo would refuse it: 400"),
        ({"accounts": [{"name": "A", "users": [{"username": "x"}]}]}, "username and password"),
        ({"callers": {"+1": {"outcome": "busy", "digits": 5}}}, "callers['+1']"),
        ({"fixtures": {"nope": 1}}, "unknown fixture key"),
    ],
)
def test_seed_errors_say_what_is_wrong(clock: Clock, pivot: PivotStub, seed: dict, complaint: str) -> None:
    with pytest.raises((SeedError, ValueError), match=re.escape(complaint)):
        make_app(clock, pivot, seed=seed)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return parser.parse_args(list(argv))


def test_serve_arguments_pair_users_with_accounts() -> None:
    args = _args("--account", "One", "--user", "a:1", "--user", "b:2:x", "--account", "Two", "--user", "c:3",
                 "--caller", "+12223334444=busy")
    seed = seed_from_args(args)
    assert seed["accounts"] == [
        {"name": "One", "users": [{"username": "a", "password": "1"}, {"username": "b", "password": "2:x"}]},
        {"name": "Two", "users": [{"username": "c", "password": "3"}]},
    ]
    assert seed["callers"] == {"+12223334444": "busy"}
    assert args.host == "127.0.0.1" and args.port == 8000 and args.state is None


def test_serve_arguments_merge_with_the_seed_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SEED_YAML)
    seed = seed_from_args(_args("--seed", str(path), "--account", "Tutorial", "--user", "amy:pw"))
    (tut,) = seed["accounts"]
    assert [u if isinstance(u, str) else u["username"] for u in tut["users"]] == ["john", "amy"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--user", "a:b"], "--user must follow the --account"),
        (["--account", "A", "--user", "nopassword"], "USERNAME:PASSWORD"),
        (["--caller", "nobody"], "CONTACT=SCRIPT"),
        (["--seed", "/nonexistent/seed.yaml"], "--seed"),
        (["--account", "A", "--caller", "+1=busy", "--token-ttl", "0"], "--token-ttl"),
        (["--connect-to", "nowhere"], "--connect-to"),
    ],
)
def test_serve_usage_errors(argv: list[str], message: str) -> None:
    from pivotsim.cli import UsageError

    with pytest.raises(UsageError, match=message):
        build_app(_args(*argv))


def test_serve_builds_an_app_with_background_calls(tmp_path: Path) -> None:
    from pivotsim.crossbar import crossbar_of

    app = build_app(_args("--account", "A", "--user", "u:p", "--kazoo-blacklist", "--state", str(tmp_path / "s.db")))
    cb = crossbar_of(app)
    assert cb.background_calls is True and cb.blacklist_strict is True and cb.store.path
    assert crossbar_of(build_app(_args("--sync-calls"))).background_calls is False


def test_register_adds_serve_to_a_parser() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["serve", "--port", "9000"])
    assert args.port == 9000 and callable(args.func)


def test_default_seed_in_tests_is_three_accounts() -> None:
    assert [a["name"] for a in SEED["accounts"]] == ["Master", "Alpha", "Beta"]


def test_serve_with_the_blacklist_and_connect_to_reaches_a_local_pivot_server() -> None:
    """The stock-Kazoo set-up: localhost is refused, so the voice_url names a host that --connect-to maps."""
    import threading

    from flask import Flask
    from werkzeug.serving import make_server

    hits: list[str] = []
    pivot_app = Flask("local-pivot")

    @pivot_app.route("/pivot")
    def pivot_view() -> dict:
        hits.append("hit")
        return {"module": "hangup", "data": {}}

    server = make_server("127.0.0.1", 0, pivot_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app = build_app(_args("--account", "A", "--user", "u:p", "--kazoo-blacklist", "--sync-calls",
                              "--connect-to", f"pivot.example:80:127.0.0.1:{server.port}"))
        kz = Kz(app)
        token, acct = kz.login("u", "p", "A")
        refused = kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow("http://127.0.0.1/pivot"), token=token)
        assert "flow.data.voice_url" in refused.body["data"]
        assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow("http://pivot.example/pivot"),
                               token=token), 201)
        assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 201)
        c2c = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "c", "extension": "1"}, token=token).data
        kz.call("GET", f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/connect", token=token, query="contact=12223334444")
        assert hits == ["hit"]
    finally:
        server.shutdown()


def test_a_second_seed_adds_sub_accounts_of_the_master(clock: Clock, pivot: PivotStub) -> None:
    from pivotsim.crossbar.seed import apply_seed

    kz = Kz(make_app(clock, pivot))
    apply_seed(kz.cb, {"accounts": [{"name": "Gamma", "users": ["g:pw"]}, {"name": "Master", "users": ["root:pw"]}]})
    master = kz.cb.master_account_id()
    gamma = next(a for a in kz.cb.store.of_type("accounts", "account") if a["name"] == "Gamma")
    assert gamma["pvt_tree"] == [master] and not gamma["pvt_superduper_admin"]
    assert len([a for a in kz.cb.store.of_type("accounts", "account") if not a["pvt_tree"]]) == 1
    assert kz.login("root", "pw", "Master")[1] == master
