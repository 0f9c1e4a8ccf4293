"""Resources (crossbar-facts section 3) and the generic CRUD, listing and pagination rules."""

from __future__ import annotations

import json

from cb_support import RESOURCE, Kz, assert_error, assert_success


def test_create_fills_defaults_and_hides_private_fields(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 201)
    assert doc["enabled"] is True and doc["emergency"] is False and doc["flags"] == []
    assert doc["rules_test"] == [] and doc["grace_period"] == 5 and doc["weight_cost"] == 50
    assert doc["from_account_realm"] is False
    gw = doc["gateways"][0]
    assert gw == {
        **RESOURCE["gateways"][0],
        "enabled": True,
        "endpoint_type": "sip",
        "invite_format": "route",
        "port": 5060,
        "force_port": False,
        "channel_selection": "ascending",
        "skype_rr": True,
    }
    assert "media" not in doc
    assert not any(k.startswith(("pvt_", "_")) for k in doc)
    stored = kz.cb.store.get(f"account/{acct}", doc["id"])
    assert stored["pvt_type"] == "resource" and stored["pvt_account_id"] == acct
    assert stored["pvt_created"] > 62167219200 and stored["pvt_vsn"] == "1"


def test_private_fields_in_the_request_are_ignored(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    body = {**RESOURCE, "pvt_type": "user", "_id": "mine", "pvt_account_id": "x" * 32}
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", body, token=token), 201)
    stored = kz.cb.store.get(f"account/{acct}", doc["id"])
    assert stored["pvt_type"] == "resource" and stored["pvt_account_id"] == acct and doc["id"] != "mine"


def test_validation_errors_are_flat_and_all_reported(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    body = {"name": "", "gateways": [{"port": "x", "username": "u" * 33}, {"server": "ok"}], "weight_cost": 500}
    r = kz.call("PUT", f"/v2/accounts/{acct}/resources", body, token=token)
    assert_error(r, 400, "validation error")
    errors = r.body["data"]
    assert errors["name"]["minLength"]["message"] == "String must be at least 1 characters"
    assert errors["gateways.0.server"]["required"]["message"] == "Field is required but missing"
    assert errors["gateways.0.port"]["type"]["message"] == "Value did not match type(s): integer"
    assert errors["gateways.0.username"]["maxLength"]["target"] == 32
    assert errors["weight_cost"]["maximum"] == {"message": "Value must be at most 100", "target": 100, "value": 500}
    assert set(errors) == {"name", "gateways.0.server", "gateways.0.port", "gateways.0.username", "weight_cost"}


def test_string_numbers_and_booleans_are_fixed(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    body = {**RESOURCE, "weight_cost": "7", "enabled": "false", "gateways": [{"server": "s", "port": "5080"}]}
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", body, token=token), 201)
    assert doc["weight_cost"] == 7 and doc["enabled"] is False and doc["gateways"][0]["port"] == 5080


def test_post_replaces_patch_merges_shallowly(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", {**RESOURCE, "custom": 1}, token=token), 201)
    url = f"/v2/accounts/{acct}/resources/{doc['id']}"
    patched = assert_success(kz.call("PATCH", url, {"weight_cost": 10}, token=token))
    assert patched["custom"] == 1 and patched["weight_cost"] == 10 and patched["name"] == "Flowroute"
    posted = kz.call("POST", url, {"name": "New", "gateways": [{"server": "b"}]}, token=token)
    new = assert_success(posted)
    assert "custom" not in new and new["weight_cost"] == 50 and new["name"] == "New"
    assert posted.body["revision"].startswith("3-")
    stored = kz.cb.store.get(f"account/{acct}", doc["id"])
    assert stored["pvt_created"] <= stored["pvt_modified"]


def test_delete_is_soft_and_then_404(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    doc = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 201)
    url = f"/v2/accounts/{acct}/resources/{doc['id']}"
    gone = assert_success(kz.call("DELETE", url, token=token))
    assert gone["_read_only"] == {"deleted": True} and gone["name"] == "Flowroute"
    for method in ("GET", "DELETE", "PATCH"):
        r = kz.call(method, url, {} if method == "PATCH" else None, token=token)
        assert_error(r, 404, "bad_identifier", {"cause": doc["id"], "message": "bad identifier"})
    assert kz.cb.store.get(f"account/{acct}", doc["id"])["pvt_deleted"] is True


def test_entity_put_and_collection_post_are_405(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    assert_error(kz.call("POST", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 405, "invalid_method")
    assert_error(kz.call("PUT", f"/v2/accounts/{acct}/resources/{'a' * 32}", RESOURCE, token=token), 405,
                 "invalid_method")


def test_list_rows_pagination_and_filters(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    ids = []
    for i in range(5):
        body = {**RESOURCE, "name": f"R{i}", "weight_cost": i * 10, "enabled": i % 2 == 0}
        ids.append(assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", body, token=token), 201)["id"])
    url = f"/v2/accounts/{acct}/resources"
    r = kz.call("GET", url, token=token)
    rows = assert_success(r)
    assert [row["id"] for row in rows] == sorted(ids)
    assert set(rows[0]) == {"id", "name", "enabled", "weight_cost"}
    assert r.body["page_size"] == 5 and "next_start_key" not in r.body and "start_key" not in r.body
    first = kz.call("GET", url, token=token, query="page_size=2")
    assert len(first.data) == 2 and first.body["page_size"] == 2
    key = first.body["next_start_key"]
    second = kz.call("GET", url, token=token, query=f"page_size=2&start_key={key}")
    assert second.body["start_key"] == key
    third = kz.call("GET", url, token=token, query=f"page_size=2&start_key={second.body['next_start_key']}")
    assert "next_start_key" not in third.body
    assert [r["id"] for r in first.data + second.data + third.data] == sorted(ids)
    desc = kz.call("GET", url, token=token, query="descending=true")
    assert [r["id"] for r in desc.data] == sorted(ids, reverse=True)
    flat = kz.call("GET", url, token=token, query="paginate=false&page_size=1")
    assert len(flat.data) == 5 and "page_size" not in flat.body
    enabled = kz.call("GET", url, token=token, query="filter_enabled=true")
    assert sorted(r["name"] for r in enabled.data) == ["R0", "R2", "R4"]
    some = kz.call("GET", url, token=token, query="filter_name=" + json.dumps(["R1", "R3"]))
    assert sorted(r["name"] for r in some.data) == ["R1", "R3"]
    nested = kz.call("GET", url, token=token, query="filter_gateways.0.port=5060&filter_not_name=R0")
    assert len(nested.data) == 4
    assert kz.call("GET", url, token=token, query="has_key=custom").data == []
    assert len(kz.call("GET", url, token=token, query="key_missing=custom").data) == 5


def test_bad_page_size(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    url = f"/v2/accounts/{acct}/resources"
    assert_error(kz.call("GET", url, token=token, query="page_size=0"), 404, "faulty_request",
                 {"message": "page size must be at least 1"})
    assert_error(kz.call("GET", url, token=token, query="page_size=abc"), 404, "faulty_request",
                 {"message": "invalid page size"})


def test_global_resources_need_a_superduper_admin(kz: Kz, alpha: tuple[str, str]) -> None:
    token, _ = alpha
    admin, _ = kz.login("admin", "admin", "Master")
    assert_error(kz.call("GET", "/v2/resources"), 401, "invalid_credentials")
    assert_error(kz.call("GET", "/v2/resources", token=token), 403, "forbidden")
    r = kz.call("PUT", "/v2/resources", RESOURCE, token=admin)
    doc = assert_success(r, 201)
    assert r.headers["location"] == f"/v2/resources/{doc['id']}"
    assert [row["id"] for row in kz.call("GET", "/v2/resources", token=admin).data] == [doc["id"]]
    assert kz.cb.store.get("offnet", doc["id"]) is not None


def test_collection(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    url = f"/v2/accounts/{acct}/resources/collection"
    out = assert_success(kz.call("PUT", url, [RESOURCE, {"name": "bad"}], token=token))
    assert len(out["success"]) == 1
    assert out["errors"]["1"]["message"] == "validation error"
    (rid,) = out["success"]
    out = assert_success(kz.call("POST", url, [{**RESOURCE, "id": rid, "name": "Renamed"}], token=token))
    assert out["success"][rid]["name"] == "Renamed"
    assert_error(kz.call("PUT", url, {"not": "a list"}, token=token), 400, "validation error")
