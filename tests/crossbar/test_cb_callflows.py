"""Callflows (crossbar-facts section 4): numbers, patterns, the flow node, the blacklist."""

from __future__ import annotations

import pytest
from cb_support import Clock, Kz, PivotStub, assert_error, assert_success, make_app, pivot_callflow


def test_tutorial_callflow_gets_pivot_defaults(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow(), token=token)
    doc = assert_success(r, 201)
    assert doc["numbers"] == ["1"] and doc["patterns"] == []
    assert doc["flow"] == {
        "module": "pivot",
        "data": {
            "voice_url": "https://pivot.example.com/cf",
            "method": "get",
            "req_format": "kazoo",
            "req_body_format": "form",
            "debug": False,
        },
    }
    assert "metadata" not in doc


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2223334444", "+12223334444"),
        ("12223334444", "+12223334444"),
        ("+12223334444", "+12223334444"),
        ("011441234567890", "+441234567890"),
        ("0044123456", "+44123456"),
        ("33123456789", "+33123456789"),
        ("1", "1"),
        ("1234", "1234"),
    ],
)
def test_numbers_are_normalised(kz: Kz, alpha: tuple[str, str], given: str, stored: str) -> None:
    token, acct = alpha
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow(number=given), token=token), 201)
    assert doc["numbers"] == [stored]


def test_no_number_and_no_pattern(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    for body in ({"numbers": []}, {}, {"numbers": [], "patterns": []}, {"numbers": ""}):
        r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", body, token=token)
        assert_error(r, 400, "validation error", {
            "numbers": {"required": {"message": "Callflows must be assigned at least one number or pattern"}}
        })


def test_numbers_and_patterns_of_the_wrong_type(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"numbers": "1"}, token=token)
    assert_error(r, 400, "validation error", {"numbers": {"type": {"message": "Value did not match type: array", "cause": "1"}}})
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"patterns": "^1$"}, token=token)
    assert_error(r, 400, "validation error",
                 {"patterns": {"type": {"message": "Value did not match type: array", "cause": "^1$"}}})
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"numbers": [1, "2"]}, token=token)
    assert r.body["data"]["numbers.0"]["type"]["message"] == "Value did not match type(s): string"


def test_duplicates_within_one_request(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"numbers": ["2223334444", "+12223334444"]}, token=token)
    assert_error(r, 400, "validation error")
    assert r.body["data"]["numbers"]["uniqueItems"]["message"] == "List of items is not unique"


def test_numbers_and_patterns_unique_per_account(kz: Kz, alpha: tuple[str, str], beta: tuple[str, str]) -> None:
    token, acct = alpha
    first = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows",
                                   {"name": "First", "numbers": ["1", "2"], "patterns": ["^9"]}, token=token), 201)
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"numbers": ["2", "1"], "patterns": ["^9"]}, token=token)
    assert_error(r, 400, "validation error")
    # Only the last conflicting number survives (a top-level merge of errors).
    assert r.body["data"]["numbers"] == {
        "unique": {"message": f"Number 1 exists in callflow {first['id']} First", "cause": "1"}
    }
    assert r.body["data"]["patterns"]["unique"]["cause"] == "^9"
    # The callflow itself may keep its numbers on update.
    assert_success(kz.call("POST", f"/v2/accounts/{acct}/callflows/{first['id']}",
                           {"numbers": ["1", "2"], "name": "Again"}, token=token))
    # Another account may use the same extension.
    assert_success(kz.call("PUT", f"/v2/accounts/{beta[1]}/callflows", {"numbers": ["1"]}, token=beta[0]), 201)


def test_e164_number_owned_by_another_account_is_403(kz: Kz, alpha: tuple[str, str], beta: tuple[str, str]) -> None:
    assert_success(kz.call("PUT", f"/v2/accounts/{alpha[1]}/callflows", {"numbers": ["4155550100"]}, token=alpha[0]), 201)
    r = kz.call("PUT", f"/v2/accounts/{beta[1]}/callflows", {"numbers": ["+14155550100"]}, token=beta[0])
    assert_error(r, 403, "forbidden", {"message": "unauthorized to use +14155550100"})


def test_flow_is_validated_with_the_engine_schemas(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows",
                {"numbers": ["5"], "flow": {"module": "say", "data": {}}}, token=token)
    assert_error(r, 400, "validation error")
    assert r.body["data"]["flow.module"]["error"]["message"] == "unable to find callflow schema for module say"
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows",
                {"numbers": ["5"], "flow": {"module": "pivot", "data": {"method": "put"}}}, token=token)
    errs = r.body["data"]
    assert "flow.data.voice_url" in errs and errs["flow.data.method"]["enum"]["value"] == "put"
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"numbers": ["5"], "flow": "pivot"}, token=token)
    assert "type" in r.body["data"]["flow"]


def test_localhost_voice_url_passes_by_default(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow("http://localhost:5000/x"), token=token)
    assert_success(r, 201)


def test_localhost_voice_url_rejected_with_the_kazoo_blacklist(clock: Clock, pivot: PivotStub) -> None:
    kz = Kz(make_app(clock, pivot, blacklist_strict=True))
    token, acct = kz.login()
    for url in ("http://localhost/x", "http://127.0.0.1:8080/x", "http://0.0.0.0/x"):
        r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow(url), token=token)
        assert_error(r, 400, "validation error", {
            "flow.data.voice_url": {"error": {"message": "invalid client URL", "value": url}}
        })
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow("http://127.0.0.2/x"), token=token), 201)


def test_get_adds_metadata_and_list_rows(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    target = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"name": "T", "numbers": ["7"]}, token=token), 201)
    body = {
        "numbers": ["8"],
        "flow": {
            "module": "callflow",
            "data": {"id": target["id"]},
            "children": {"_": {"module": "pivot", "data": {"voice_url": "http://a/b", "skip_module": True}}},
        },
    }
    made = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", body, token=token), 201)
    got = assert_success(kz.call("GET", f"/v2/accounts/{acct}/callflows/{made['id']}", token=token))
    assert got["metadata"] == {target["id"]: {"name": "T", "numbers": ["7"], "pvt_type": "callflow"}}
    rows = kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token).data
    row = next(r for r in rows if r["id"] == made["id"])
    assert row == {"id": made["id"], "numbers": ["8"], "patterns": [], "featurecode": False,
                   "modules": ["callflow"], "flags": []}


def test_patch_merges_deeply(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    made = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow(debug=True), token=token), 201)
    url = f"/v2/accounts/{acct}/callflows/{made['id']}"
    patched = assert_success(kz.call("PATCH", url, {"flow": {"data": {"method": "post"}}}, token=token))
    assert patched["flow"]["data"]["method"] == "post" and patched["flow"]["data"]["debug"] is True
    assert patched["numbers"] == ["1"]


def test_post_to_unknown_id_validates_first(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    ghost = "e" * 32
    assert_error(kz.call("POST", f"/v2/accounts/{acct}/callflows/{ghost}", {"numbers": "x"}, token=token), 400,
                 "validation error")
    assert_error(kz.call("POST", f"/v2/accounts/{acct}/callflows/{ghost}", {"numbers": ["9"]}, token=token), 404,
                 "bad_identifier", {"cause": ghost, "message": "bad identifier"})
    assert_error(kz.call("PATCH", f"/v2/accounts/{acct}/callflows/{ghost}", {"numbers": "x"}, token=token), 404,
                 "bad_identifier")


def test_wrong_document_type_is_404(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    c2c = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "c", "extension": "1"}, token=token), 201)
    assert_error(kz.call("GET", f"/v2/accounts/{acct}/callflows/{c2c['id']}", token=token), 404, "bad_identifier")
