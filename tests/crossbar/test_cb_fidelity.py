"""Details checked against crossbar-facts: coercion and ``required`` inside ``flow``, CORS headers."""

from __future__ import annotations

from typing import Any

import pytest
from cb_support import Kz, PivotStub, assert_error, assert_success

FLOW_STRINGS = {"module": "pivot", "data": {"voice_url": "http://h/x", "req_timeout_ms": "3000", "debug": "true"}}


def test_strings_are_converted_inside_flow_as_at_the_top_level(kz: Kz, alpha: tuple[str, str]) -> None:
    """crossbar-facts 1.8: fix_js_types converts "5"/"true" where the schema wants a number or
    boolean, and the flow.data errors pass through the same maybe_fix_js_types."""
    token, acct = alpha
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"numbers": ["7"], "flow": FLOW_STRINGS},
                                 token=token), 201)
    assert doc["flow"]["data"]["req_timeout_ms"] == 3000 and doc["flow"]["data"]["debug"] is True
    stored = kz.cb.store.get(f"account/{acct}", doc["id"])
    assert stored is not None and stored["flow"]["data"]["debug"] is True
    # In children too, and after conversion the value is validated again (maximum 5000).
    child = {"module": "pivot", "data": {"voice_url": "http://h/x"},
             "children": {"_": {"module": "pivot", "data": {"voice_url": "http://h/y", "debug": "false"}}}}
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"numbers": ["8"], "flow": child},
                                 token=token), 201)
    assert doc["flow"]["children"]["_"]["data"]["debug"] is False
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows",
                {"numbers": ["9"], "flow": {"module": "pivot", "data": {"voice_url": "http://h/x", "req_timeout_ms": "9000"}}},
                token=token)
    assert_error(r, 400, "validation error", {"flow.data.req_timeout_ms": {"maximum": {
        "message": "Value must be at most 5000", "target": 5000, "value": 9000}}})
    # What cannot be converted is still a type error, with the value as sent.
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows",
                {"numbers": ["9"], "flow": {"module": "pivot", "data": {"voice_url": "http://h/x", "debug": "yes"}}},
                token=token)
    assert r.body["data"]["flow.data.debug"]["type"]["value"] == "yes"
    # The top level converts as before.
    res = {"name": "r", "gateways": [{"server": "gw"}], "weight_cost": "7"}
    assert assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", res, token=token), 201)["weight_cost"] == 7


def test_pivot_replies_stay_strict(kz: Kz, pivot: PivotStub, alpha: tuple[str, str]) -> None:
    """Only stored callflows are converted: the engine still refuses a reply with "true" as a boolean."""
    from pivotsim import make_validator

    result = make_validator().validate_node({"module": "pivot", "data": {"voice_url": "http://h/x", "debug": "true"}})
    assert [i.keyword for i in result.errors] == ["type"]


@pytest.mark.parametrize(
    ("flow", "key", "parent"),
    [
        ({"module": "pivot", "data": {"debug": True}}, "flow.data.voice_url", {"debug": True}),
        ({"data": {}}, "flow.module", {"data": {}}),
        ({"module": "pivot", "data": {"voice_url": "http://h/x"}, "children": {"_": {"module": "pivot", "data": {"method": "get"}}}},
         "flow.children._.data.voice_url", {"method": "get"}),
    ],
)
def test_required_inside_flow_carries_the_parent_object(kz: Kz, alpha: tuple[str, str], flow: dict[str, Any],
                                                         key: str, parent: dict[str, Any]) -> None:
    """crossbar-facts 1.8: ``required`` has ``value`` = the parent object, as the top-level errors do."""
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"numbers": ["5"], "flow": flow}, token=token)
    assert_error(r, 400, "validation error")
    assert r.body["data"][key] == {"required": {"message": "Field is required but missing", "value": parent}}


def test_numbers_type_message_follows_the_facts(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", {"numbers": {"a": 1}}, token=token)
    assert r.body["data"]["numbers"]["type"]["message"] == "Value did not match type: array"


def test_cors_requests_get_allow_methods_too(kz: Kz, alpha: tuple[str, str]) -> None:
    """crossbar-facts 1.10: a CORS request gets the same header set as a preflight, errors included."""
    token, acct = alpha
    origin = {"Origin": "http://app.example"}
    r = kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token, headers=origin)
    assert r.headers["access-control-allow-methods"] == "OPTIONS, GET, PUT"
    assert r.headers["access-control-max-age"] == "86400"
    r = kz.call("GET", f"/v2/accounts/{acct}/clicktocall", token=token,
                headers={**origin, "Access-Control-Request-Method": "DELETE"})
    assert r.headers["access-control-allow-methods"] == "OPTIONS, GET, PUT, DELETE"
    # Errors always carry them: the path's methods once known, OPTIONS alone before routing.
    err = kz.call("DELETE", f"/v2/accounts/{acct}/callflows", token=token)
    assert err.status == 405 and err.headers["access-control-allow-methods"] == "OPTIONS, GET, PUT"
    bad = kz.call("PUT", f"/v2/accounts/{acct}/callflows", raw="{", token=token)
    assert bad.status == 400 and bad.headers["access-control-allow-methods"] == "OPTIONS"
    plain = kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token)
    assert not any(k.startswith("access-control-") for k in plain.headers)


def test_debug_docs_lower_case_header_values_as_pivot_does(kz: Kz, pivot: PivotStub, alpha: tuple[str, str]) -> None:
    """kazoo-pivot-contract 5.1: header keys *and values* are lower-cased in the debug docs."""
    from cb_support import RESOURCE, pivot_callflow

    token, acct = alpha
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 201)
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows", pivot_callflow(debug=True), token=token), 201)
    c2c = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "c", "extension": "1"},
                                 token=token), 201)
    call = assert_success(kz.call("GET", f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/connect", token=token,
                                  query="contact=2223334444"))["call_id"]
    docs = assert_success(kz.call("GET", f"/v2/accounts/{acct}/pivot/debug/{call}", token=token))
    resp = next(d for d in docs if "resp_headers" in d)
    assert resp["resp_headers"] and all(k == k.lower() and v == v.lower() for k, v in resp["resp_headers"].items())
