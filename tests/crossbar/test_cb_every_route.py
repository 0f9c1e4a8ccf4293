"""Every route, every kind of bad request: Kazoo's status and envelope each time.

The checks: malformed JSON, a missing ``data``, wrong types, unknown ids, another
account's ids, a missing token and an expired token. The order of Kazoo's checks
(crossbar-facts 1.2) decides the answer, so e.g. malformed JSON is a 400 even on a
route that needs a token, and an expired token is a 401 even on a public route.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
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

GHOST = "0badc0de" * 4


@dataclass(frozen=True)
class R:
    method: str
    path: str  # {acct} {id} {token} {call} are filled from the world
    body: Any = None  # a valid body
    public: bool = False  # needs no token
    noun: str = ""  # the kind of document {id} names
    ok: int = 0  # the status of a valid request, when it is not 200/201
    anon: int = 0  # a public route's exact status without a token


C2C = {"name": "call_1", "extension": "1"}
USER = {"first_name": "A", "last_name": "B", "username": "abc", "password": "pw"}
CF = pivot_callflow(number="77")

ROUTES = [
    R("PUT", "/v2/user_auth", {"credentials": "x" * 32, "account_name": "Alpha"}, public=True, anon=401),
    R("GET", "/v2/accounts/{acct}/user_auth/{token}"),
    # Un-prefixed, the request has no account, so the code path answers 403 (crossbar-facts 2.2).
    R("GET", "/v2/user_auth/{token}", ok=403),
    R("PUT", "/v2/api_auth", {"api_key": "a" * 64}, public=True, anon=404),
    R("GET", "/v2/token_auth"),
    R("DELETE", "/v2/token_auth"),
    R("GET", "/v2/accounts/{acct}"),
    R("PUT", "/v2/accounts/{acct}", {"name": "Child"}),
    R("POST", "/v2/accounts/{acct}", {"name": "Alpha"}),
    R("PATCH", "/v2/accounts/{acct}", {"timezone": "UTC"}),
    R("DELETE", "/v2/accounts/{acct}"),
    R("PUT", "/v2/accounts", {"name": "Sub"}),
    R("GET", "/v2/accounts/{acct}/api_key"),
    R("PUT", "/v2/accounts/{acct}/api_key"),
    R("GET", "/v2/accounts/{acct}/children"),
    R("GET", "/v2/accounts/{acct}/descendants"),
    R("GET", "/v2/accounts/{acct}/parents"),
    R("GET", "/v2/accounts/{acct}/users"),
    R("PUT", "/v2/accounts/{acct}/users", USER),
    R("GET", "/v2/accounts/{acct}/users/{id}", noun="user"),
    R("POST", "/v2/accounts/{acct}/users/{id}", {**USER, "username": "zed"}, noun="user"),
    R("PATCH", "/v2/accounts/{acct}/users/{id}", {"email": "a@b.c"}, noun="user"),
    R("DELETE", "/v2/accounts/{acct}/users/{id}", noun="user"),
    R("GET", "/v2/accounts/{acct}/resources"),
    R("PUT", "/v2/accounts/{acct}/resources", RESOURCE),
    R("GET", "/v2/accounts/{acct}/resources/{id}", noun="resource"),
    R("POST", "/v2/accounts/{acct}/resources/{id}", RESOURCE, noun="resource"),
    R("PATCH", "/v2/accounts/{acct}/resources/{id}", {"weight_cost": 1}, noun="resource"),
    R("DELETE", "/v2/accounts/{acct}/resources/{id}", noun="resource"),
    R("PUT", "/v2/accounts/{acct}/resources/collection", [RESOURCE]),
    R("POST", "/v2/accounts/{acct}/resources/collection", [{**RESOURCE, "id": "{resource}", "name": "Bulk"}]),
    R("GET", "/v2/accounts/{acct}/callflows"),
    R("PUT", "/v2/accounts/{acct}/callflows", CF),
    R("GET", "/v2/accounts/{acct}/callflows/{id}", noun="callflow"),
    R("POST", "/v2/accounts/{acct}/callflows/{id}", pivot_callflow(number="78"), noun="callflow"),
    R("PATCH", "/v2/accounts/{acct}/callflows/{id}", {"name": "x"}, noun="callflow"),
    R("DELETE", "/v2/accounts/{acct}/callflows/{id}", noun="callflow"),
    R("GET", "/v2/accounts/{acct}/clicktocall"),
    R("PUT", "/v2/accounts/{acct}/clicktocall", C2C),
    R("GET", "/v2/accounts/{acct}/clicktocall/{id}", noun="c2c"),
    R("POST", "/v2/accounts/{acct}/clicktocall/{id}", C2C, noun="c2c"),
    R("PATCH", "/v2/accounts/{acct}/clicktocall/{id}", {"name": "y"}, noun="c2c"),
    R("DELETE", "/v2/accounts/{acct}/clicktocall/{id}", noun="c2c"),
    R("GET", "/v2/accounts/{acct}/clicktocall/{id}/connect", {"contact": "12223334444"}, noun="c2c"),
    R("POST", "/v2/accounts/{acct}/clicktocall/{id}/connect", {"contact": "12223334444"}, noun="c2c"),
    R("GET", "/v2/accounts/{acct}/clicktocall/{id}/history", noun="c2c"),
    # auth_required: false: connect needs no token (crossbar-facts 5.2).
    R("GET", "/v2/accounts/{acct}/clicktocall/{id}/connect", {"contact": "12223334444"}, public=True,
      noun="c2c_open", anon=200),
    R("POST", "/v2/accounts/{acct}/clicktocall/{id}/connect", {"contact": "12223334444"}, public=True,
      noun="c2c_open", anon=200),
    R("GET", "/v2/accounts/{acct}/pivot/debug"),
    R("GET", "/v2/accounts/{acct}/pivot/debug/{call}"),
    R("GET", "/v2/accounts/{acct}/pivotsim/calls"),
    R("GET", "/v2/accounts/{acct}/pivotsim/calls/{call}", noun="call"),
    R("GET", "/v2/resources"),
    R("PUT", "/v2/resources", RESOURCE),
    R("GET", "/v2/resources/{id}", noun="global"),
    R("POST", "/v2/resources/{id}", RESOURCE, noun="global"),
    R("PATCH", "/v2/resources/{id}", {"weight_cost": 2}, noun="global"),
    R("DELETE", "/v2/resources/{id}", noun="global"),
    R("PUT", "/v2/resources/collection", [RESOURCE]),
    R("POST", "/v2/resources/collection", [{**RESOURCE, "id": "{global}", "name": "Bulk"}]),
]
IDS = [f"{r.method} {r.path}" + (" (auth_required false)" if r.noun == "c2c_open" else "") for r in ROUTES]


class World:
    """Alpha and Beta, each with one of every document, and a call placed in each.

    Built once per module into an SQLite state file; each test opens its own copy, so
    tests stay independent without paying for the set-up (``--state`` keeps the token
    secret, so the tokens stay valid).
    """

    def __init__(self, kz: Kz, accounts: dict[str, dict[str, Any]], admin: str, glob: str) -> None:
        self.kz = kz
        self.accounts = accounts
        self.admin = admin
        self.glob = glob

    @classmethod
    def build(cls, kz: Kz) -> World:
        admin, _ = kz.login("admin", "admin", "Master")
        accounts: dict[str, dict[str, Any]] = {}
        for name, user, pw in (("Alpha", "john", "12345"), ("Beta", "jane", "Secret")):
            token, acct = kz.login(user, pw, name)
            ids: dict[str, Any] = {"token": token, "acct": acct}
            base = f"/v2/accounts/{acct}"
            ids["user"] = assert_success(kz.call("PUT", f"{base}/users", {**USER, "username": name}, token=token), 201)["id"]
            ids["resource"] = assert_success(kz.call("PUT", f"{base}/resources", RESOURCE, token=token), 201)["id"]
            ids["callflow"] = assert_success(
                kz.call("PUT", f"{base}/callflows", pivot_callflow(number="1", debug=True), token=token), 201
            )["id"]
            ids["c2c"] = assert_success(kz.call("PUT", f"{base}/clicktocall", C2C, token=token), 201)["id"]
            ids["c2c_open"] = assert_success(
                kz.call("PUT", f"{base}/clicktocall", {**C2C, "auth_required": False}, token=token), 201
            )["id"]
            call = kz.call("GET", f"{base}/clicktocall/{ids['c2c']}/connect", token=token, query="contact=12223334444")
            ids["call"] = assert_success(call)["call_id"]
            accounts[name] = ids
        glob = assert_success(kz.call("PUT", "/v2/resources", RESOURCE, token=admin), 201)["id"]
        return cls(kz, accounts, admin, glob)

    def path(self, route: R, owner: str = "Alpha", doc_owner: str | None = None, doc_id: str | None = None) -> str:
        ids = self.accounts[owner]
        docs = self.accounts[doc_owner or owner]
        noun_id = self.glob if route.noun == "global" else docs.get(route.noun, "")
        call = doc_id if doc_id and route.noun == "call" else docs["call"]
        return route.path.format(acct=ids["acct"], token=ids["token"], call=call, id=doc_id or noun_id)

    def token(self, route: R, owner: str = "Alpha") -> str:
        return self.admin if route.path.startswith("/v2/resources") else self.accounts[owner]["token"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    path = tmp_path_factory.mktemp("world") / "world.sqlite"
    kz = Kz(make_app(Clock(), PivotStub(), state=str(path)))
    built = World.build(kz)
    kz.cb.store.close()
    return path, built


@pytest.fixture
def world(template: tuple[Path, World], tmp_path: Path, clock: Clock, pivot: PivotStub) -> World:
    path, built = template
    copy = tmp_path / "world.sqlite"
    shutil.copyfile(path, copy)
    return World(Kz(make_app(clock, pivot, state=str(copy))), built.accounts, built.admin, built.glob)


def _fill(world: World, body: Any) -> Any:
    """``{resource}``/``{global}`` in a bulk body become Alpha's resource id / the global one."""
    if isinstance(body, list):
        return [_fill(world, item) for item in body]
    if isinstance(body, dict):
        return {k: _fill(world, v) for k, v in body.items()}
    if body == "{resource}":
        return world.accounts["Alpha"]["resource"]
    if body == "{global}":
        return world.glob
    return body


def _query_and_body(route: R, world: World | None = None) -> tuple[str, Any]:
    """connect GET takes its contact from the query string."""
    if route.method == "GET" and route.body and "contact" in route.body:
        return "contact=12223334444", None
    return "", _fill(world, route.body) if world is not None else route.body


def test_every_route_answers_a_valid_request(world: World) -> None:
    """The baseline the failure tests are measured against: each route works when asked well."""
    kz = world.kz
    # Deletes last, and the account's own delete after its documents'.
    for route in sorted(ROUTES, key=lambda r: (r.method == "DELETE", r.path == "/v2/accounts/{acct}")):
        if route.public and route.anon != 200:
            continue
        query, body = _query_and_body(route, world)
        if route.method == "DELETE" and route.path == "/v2/accounts/{acct}":
            # Kazoo refuses to delete an account with descendants (500 account_has_descendants):
            # remove the sub-accounts the PUT routes above created first.
            acct, token = world.accounts["Alpha"]["acct"], world.token(route)
            for child in assert_success(kz.call("GET", f"/v2/accounts/{acct}/descendants", token=token)):
                assert_success(kz.call("DELETE", f"/v2/accounts/{child['id']}", token=token))
        r = kz.call(route.method, world.path(route), body, token=world.token(route), query=query)
        if route.ok:
            assert_error(r, route.ok, {403: "forbidden"}[route.ok])
            continue
        assert r.status in (200, 201), (route, r.status, r.body)
        assert r.body["status"] == "success"
        if route.path.endswith("/collection"):
            assert r.body["data"]["errors"] == {} and len(r.body["data"]["success"]) == 1, r.body


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_malformed_json(world: World, route: R) -> None:
    kz = world.kz
    r = kz.call(route.method, world.path(route), raw='{"data": [1, 2', token=world.token(route))
    assert_error(r, 400, "validation error")
    assert r.body["data"]["json"]["invalid"]["target"] == "body"


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_missing_data(world: World, route: R) -> None:
    kz = world.kz
    r = kz.call(route.method, world.path(route), envelope={"contact": "12223334444"}, token=world.token(route))
    assert_error(r, 400, "validation error")
    assert r.body["data"]["data"]["required"]["message"] == "Field is required but missing"


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_wrong_types(world: World, route: R) -> None:
    kz = world.kz
    r = kz.call(route.method, world.path(route), envelope={"data": 42}, token=world.token(route))
    assert_error(r, 400, "validation error")
    assert r.body["data"]["data"]["type"]["value"] == 42
    if route.method in ("PUT", "POST", "PATCH") and isinstance(route.body, dict):
        # A document route also refuses a list where its object belongs.
        r = kz.call(route.method, world.path(route), [route.body], token=world.token(route))
        assert_error(r, 400, "validation error")


FIELD_TYPES: dict[str, tuple[dict[str, Any], str]] = {
    "/v2/user_auth": ({"credentials": 123}, "credentials"),
    "/v2/api_auth": ({"api_key": 123}, "api_key"),
    "/v2/accounts/{acct}": ({"name": ["x"]}, "name"),
    "/v2/accounts": ({"name": ["x"]}, "name"),
    "users": ({**USER, "first_name": 5}, "first_name"),
    "resources": ({**RESOURCE, "gateways": {"server": "x"}}, "gateways"),
    "callflows": ({**CF, "name": 7}, "name"),
    "clicktocall": ({**C2C, "timeout": "soon"}, "timeout"),
}


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method in ("PUT", "POST") and isinstance(r.body, dict)
                                   and "contact" not in r.body],
                         ids=lambda r: f"{r.method} {r.path}")
def test_wrong_field_types(world: World, route: R) -> None:
    kz = world.kz
    key = next(k for k in FIELD_TYPES if k == route.path or f"/{k}" in route.path)
    body, field = FIELD_TYPES[key]
    r = kz.call(route.method, world.path(route), body, token=world.token(route))
    assert_error(r, 400, "validation error")
    assert r.body["data"][field]["type"]["message"].startswith("Value did not match type(s): ")


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_unknown_ids(world: World, route: R) -> None:
    kz = world.kz
    query, body = _query_and_body(route)
    token = world.token(route)
    if "{acct}" in route.path:
        # An account that does not exist.
        path = route.path.format(acct=GHOST, token=token, call="c2c-x", id=GHOST)
        assert_error(kz.call(route.method, path, body, token=token, query=query), 404, "bad_identifier",
                     {"cause": GHOST, "message": "bad identifier"})
    if route.noun == "call" or "{call}" in route.path:
        r = kz.call(route.method, route.path.format(acct=world.accounts["Alpha"]["acct"], call="c2c-nope"), token=token)
        if route.noun == "call":
            assert_error(r, 404, "bad_identifier", {"cause": "c2c-nope", "message": "bad identifier"})
        else:
            assert assert_success(r) == []  # Kazoo's view simply finds no debug documents
    elif route.noun:
        path = world.path(route, doc_id=GHOST)
        assert_error(kz.call(route.method, path, body, token=token, query=query), 404, "bad_identifier",
                     {"cause": GHOST, "message": "bad identifier"})
    elif route.path == "/v2/api_auth":
        assert_error(kz.call("PUT", route.path, {"api_key": GHOST * 2}), 404, "bad identifier", [GHOST * 2])
    elif route.path == "/v2/user_auth":
        r = kz.call("PUT", route.path, {"credentials": "x" * 32, "account_name": "Nobody"})
        assert_error(r, 401, "invalid_credentials", {"message": "invalid credentials"})


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_another_accounts_ids(world: World, route: R) -> None:
    kz = world.kz
    query, body = _query_and_body(route)
    beta_token = world.accounts["Beta"]["token"]
    if "{acct}" in route.path and route.noun == "c2c_open":
        # auth_required: false skips authorisation too, so any (valid) token may connect (crossbar-facts 5.2).
        assert_success(kz.call(route.method, world.path(route), body, token=beta_token, query=query))
    elif "{acct}" in route.path:
        # Beta's token on Alpha's account: the account tree says no.
        r = kz.call(route.method, world.path(route), body, token=beta_token, query=query)
        assert_error(r, 403, "forbidden", {"message": "forbidden"})
    if route.noun in ("user", "resource", "callflow", "c2c", "c2c_open", "call"):
        # Alpha's own account, but a document id from Beta: not found in Alpha's database.
        beta_doc = world.accounts["Beta"][route.noun]
        r = kz.call(route.method, world.path(route, doc_id=beta_doc), body, token=world.token(route), query=query)
        assert_error(r, 404, "bad_identifier", {"cause": beta_doc, "message": "bad identifier"})
    if "{call}" in route.path and route.noun != "call":
        r = kz.call("GET", world.path(route, doc_owner="Beta"), token=world.token(route))
        assert assert_success(r) == []
    if route.path.startswith("/v2/resources"):
        r = kz.call(route.method, world.path(route), body, token=world.accounts["Alpha"]["token"])
        assert_error(r, 403, "forbidden")
    if route.path == "/v2/token_auth" and route.method == "GET":
        assert assert_success(kz.call("GET", route.path, token=beta_token))["account_id"] == world.accounts["Beta"]["acct"]


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_missing_token(world: World, route: R) -> None:
    kz = world.kz
    query, body = _query_and_body(route)
    r = kz.call(route.method, world.path(route), body, query=query)
    if route.public:
        # Each public route's own answer without a token: wrong credentials (401 invalid_credentials),
        # an unknown api key (404, the key as an array), or the call placed (200).
        assert route.anon, route
        if route.anon == 200:
            assert_success(r)
        elif route.anon == 401:
            assert_error(r, 401, "invalid_credentials", {"message": "invalid credentials"})
        else:
            assert_error(r, 404, "bad identifier", [body["api_key"]])
        assert "auth_token" not in r.body and "version" not in r.body
    else:
        assert_error(r, 401, "invalid_credentials", {"message": "invalid credentials"})
        assert "version" not in r.body


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_expired_token(world: World, clock: Clock, route: R) -> None:
    kz = world.kz
    query, body = _query_and_body(route)
    token = world.token(route)
    clock.advance(3601)
    r = kz.call(route.method, world.path(route), body, token=token, query=query)
    assert_error(r, 401, "invalid credentials", {})
