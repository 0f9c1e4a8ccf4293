"""user_auth, api_auth, token_auth and the token rules (crossbar-facts section 2, 1.5)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cb_support import Clock, Kz, assert_error, assert_success, pivot_callflow


def creds(user: str, password: str, method: str = "md5") -> str:
    text = f"{user.lower()}:{password}".encode()
    return (hashlib.md5(text) if method == "md5" else hashlib.sha1(text)).hexdigest()


def test_user_auth_md5_by_account_name(kz: Kz) -> None:
    r = kz.call("PUT", "/v2/user_auth", {"credentials": creds("john", "12345"), "account_name": "Alpha"})
    data = assert_success(r, 201)
    assert r.body["auth_token"].count(".") == 2  # a JWT, in the envelope
    assert "auth_token" not in data
    assert r.body["version"]
    assert "revision" not in r.body
    assert r.body["tokens"]["consumed"] == 35
    assert data["account_name"] == "Alpha"
    assert data["owner_id"] and data["account_id"]
    assert data["is_master_account"] is False
    assert data["apps"] == [] and data["language"] == "en-US"


def test_user_auth_sha_and_name_normalisation_and_realm(kz: Kz) -> None:
    r = kz.call("PUT", "/v2/user_auth", {"credentials": creds("jane", "Secret", "sha"), "method": "sha",
                                         "account_name": "b-E-t-a!"})
    assert assert_success(r, 201)["account_name"] == "Beta"
    r = kz.call("PUT", "/v2/user_auth", {"credentials": creds("JANE", "Secret"), "account_realm": "BETA.sip.example.com"})
    assert_success(r, 201)


def test_user_auth_password_case_matters(kz: Kz) -> None:
    r = kz.call("PUT", "/v2/user_auth", {"credentials": creds("jane", "secret"), "account_name": "Beta"})
    assert_error(r, 401, "invalid_credentials", {"message": "invalid credentials"})


@pytest.mark.parametrize(
    "body",
    [
        {"credentials": creds("john", "wrong"), "account_name": "Alpha"},
        {"credentials": creds("john", "12345"), "account_name": "Nope"},
        {"credentials": creds("john", "12345"), "account_name": "Beta"},
        {"credentials": creds("john", "12345")},
        {"credentials": creds("john", "12345"), "phone_number": "+15550000000"},
    ],
)
def test_user_auth_failures_are_401(kz: Kz, body: dict) -> None:
    assert_error(kz.call("PUT", "/v2/user_auth", body), 401, "invalid_credentials", {"message": "invalid credentials"})


def test_user_auth_sha1_is_an_enum_error_naming_sha(kz: Kz) -> None:
    r = kz.call("PUT", "/v2/user_auth", {"credentials": creds("john", "12345", "sha"), "method": "sha1",
                                         "account_name": "Alpha"})
    assert_error(r, 400, "validation error")
    assert r.body["data"] == {
        "method": {
            "enum": {"message": "Value not found in enumerated list of values", "target": ["md5", "sha"], "value": "sha1"}
        }
    }


def test_user_auth_schema_errors(kz: Kz) -> None:
    r = kz.call("PUT", "/v2/user_auth", {"account_name": "Alpha", "account_realm": "a b"})
    assert_error(r, 400, "validation error")
    assert r.body["data"]["credentials"]["required"]["message"] == "Field is required but missing"
    # "a b" is too short *and* fails the pattern: only the last error for a path survives.
    assert list(r.body["data"]["account_realm"]) == ["pattern"]
    r = kz.call("PUT", "/v2/user_auth", {"credentials": 12345})
    assert r.body["data"]["credentials"]["type"]["message"] == "Value did not match type(s): string"


def test_user_auth_by_phone_number(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow(number="4155550100"), token=token), 201)
    r = kz.call("PUT", "/v2/user_auth", {"credentials": creds("john", "12345"), "phone_number": "+14155550100"})
    assert assert_success(r, 201)["account_id"] == acct


def test_disabled_user_cannot_log_in(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/users", {"first_name": "S", "last_name": "T", "username": "Sam",
                                                      "password": "pw", "enabled": False}, token=token)
    user = assert_success(r, 201)
    assert user["username"] == "sam" and "password" not in user
    assert not any(k.startswith("pvt_") for k in user)
    r = kz.call("PUT", "/v2/user_auth", {"credentials": creds("sam", "pw"), "account_name": "Alpha"})
    assert_error(r, 401, "invalid_credentials")
    kz.call("PATCH", f"/v2/accounts/{acct}/users/{user['id']}", {"enabled": True}, token=token)
    assert_success(kz.call("PUT", "/v2/user_auth", {"credentials": creds("sam", "pw"), "account_name": "Alpha"}), 201)


def test_api_auth(kz: Kz) -> None:
    alpha = next(a for a in kz.cb.store.of_type("accounts", "account") if a["name"] == "Alpha")
    r = kz.call("PUT", "/v2/api_auth", {"api_key": alpha["pvt_api_key"]})
    data = assert_success(r, 201)
    assert data["account_id"] == alpha["_id"] and "owner_id" not in data
    unknown = "0" * 64
    assert_error(kz.call("PUT", "/v2/api_auth", {"api_key": unknown}), 404, "bad identifier", [unknown])
    r = kz.call("PUT", "/v2/api_auth", {"api_key": "short"})
    assert_error(r, 400, "validation error")
    assert "minLength" in r.body["data"]["api_key"]
    r = kz.call("PUT", "/v2/api_auth", {"api_key": alpha["pvt_api_key"], "extra": 1})
    assert "additionalProperties" in r.body["data"]["extra"]
    assert_error(kz.call("PUT", "/v2/api_auth", {}), 400, "validation error")


def test_api_key_read_and_regenerate(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    key = assert_success(kz.call("GET", f"/v2/accounts/{acct}/api_key", token=token))["api_key"]
    assert len(key) == 64
    new = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/api_key", token=token), 201)["api_key"]
    assert new != key
    assert_error(kz.call("PUT", "/v2/api_auth", {"api_key": key}), 404, "bad identifier")
    assert_success(kz.call("PUT", "/v2/api_auth", {"api_key": new}), 201)


def test_token_auth_who_am_i(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    data = assert_success(kz.call("GET", "/v2/token_auth", token=token))
    assert data["account_id"] == acct and data["method"] == "cb_user_auth" and data["id"] is None
    assert data["iss"] == "kazoo" and isinstance(data["exp"], int)
    assert_success(kz.call("DELETE", "/v2/token_auth", token=token))


def test_token_sources(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    path = f"/v2/accounts/{acct}/callflows"
    assert_success(kz.call("GET", path, query=f"auth_token={token}"))
    assert_success(kz.call("GET", path, headers={"Authorization": f"Bearer {token}"}))
    assert_success(kz.call("POST", path, envelope={"data": {}, "auth_token": token}, query="verb=GET"))


def test_expired_token_is_the_response_401_form(kz: Kz, clock: Clock, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    clock.advance(3599)
    assert_success(kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token))
    clock.advance(2)
    r = kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token)
    assert_error(r, 401, "invalid credentials", {})
    assert r.body["auth_token"] == token


def test_expired_token_fails_early_even_on_public_routes(kz: Kz, clock: Clock, alpha: tuple[str, str]) -> None:
    token, _ = alpha
    clock.advance(7200)
    r = kz.call("PUT", "/v2/user_auth", {"credentials": creds("john", "12345"), "account_name": "Alpha"}, token=token)
    assert_error(r, 401, "invalid credentials", {})
    # ... and before the path is even looked at.
    assert_error(kz.call("GET", "/v2/nothing/here", token=token), 401, "invalid credentials", {})


def test_token_ttl_is_configurable(clock: Clock, pivot) -> None:
    from cb_support import make_app

    kz = Kz(make_app(clock, pivot, token_ttl=60))
    token, acct = kz.login()
    clock.advance(61)
    assert_error(kz.call("GET", f"/v2/accounts/{acct}", token=token), 401, "invalid credentials", {})


def test_unknown_token_is_early_401(kz: Kz, alpha: tuple[str, str]) -> None:
    _, acct = alpha
    r = kz.call("GET", f"/v2/accounts/{acct}/callflows", token="0123456789abcdef0123456789abcdef")
    assert_error(r, 401, "invalid credentials", {})


def test_forged_token_counts_as_no_token(kz: Kz, alpha: tuple[str, str], beta: tuple[str, str]) -> None:
    token, acct = alpha
    _, beta_acct = beta
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["account_id"] = beta_acct
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    r = kz.call("GET", f"/v2/accounts/{beta_acct}/callflows", token=f"{head}.{forged_payload}.{sig}")
    assert_error(r, 401, "invalid_credentials", {"message": "invalid credentials"})


def test_user_auth_token_read(kz: Kz, clock: Clock, alpha: tuple[str, str], beta: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("GET", f"/v2/accounts/{acct}/user_auth/{token}", token=token)
    assert assert_success(r)["account_id"] == acct
    # Another valid token of the same account than the one asked about: 401.
    clock.advance(1)
    other, _ = kz.login()
    assert other != token
    assert_error(kz.call("GET", f"/v2/accounts/{acct}/user_auth/{token}", token=other), 401, "invalid_credentials")
    # Another account's token is stopped by the account tree first.
    assert_error(kz.call("GET", f"/v2/accounts/{acct}/user_auth/{token}", token=beta[0]), 403, "forbidden")
    # The un-prefixed path has no account, so Kazoo's code answers 403 [doc≠src].
    assert_error(kz.call("GET", f"/v2/user_auth/{token}", token=token), 403, "forbidden")
    # No token at all.
    assert_error(kz.call("GET", f"/v2/accounts/{acct}/user_auth/{token}"), 401, "invalid_credentials")


def test_tokens_work_across_the_account_tree(kz: Kz, alpha: tuple[str, str], beta: tuple[str, str]) -> None:
    master, master_acct = kz.login("admin", "admin", "Master")
    _, alpha_acct = alpha
    token, _ = alpha
    assert_success(kz.call("GET", f"/v2/accounts/{alpha_acct}/callflows", token=master))
    assert_error(kz.call("GET", f"/v2/accounts/{master_acct}/callflows", token=token), 403, "forbidden",
                 {"message": "forbidden"})
    children = assert_success(kz.call("GET", f"/v2/accounts/{master_acct}/children", token=master))
    assert sorted(c["name"] for c in children) == ["Alpha", "Beta"]


def test_disabled_account_is_a_400(kz: Kz, alpha: tuple[str, str]) -> None:
    admin, _ = kz.login("admin", "admin", "Master")
    _, acct = alpha
    assert_success(kz.call("PATCH", f"/v2/accounts/{acct}", {"enabled": False}, token=admin))
    r = kz.call("PUT", "/v2/user_auth", {"credentials": creds("john", "12345"), "account_name": "Alpha"})
    assert_error(r, 400, "validation error", {"account": {"disabled": {"message": "account disabled"}}})
