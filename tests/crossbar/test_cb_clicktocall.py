"""Click-to-call (crossbar-facts section 5), connect through the engine, history and pivot debug."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cb_support import RESOURCE, Kz, PivotStub, assert_error, assert_success, pivot_callflow


@pytest.fixture
def tutorial(kz: Kz, alpha: tuple[str, str]) -> dict[str, Any]:
    """The tutorial's resource, pivot callflow on extension 1, and a click-to-call."""
    token, acct = alpha
    assert_success(kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token), 201)
    cf = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/callflows",
                                pivot_callflow("https://pivot.example.com/cf", debug=True), token=token), 201)
    c2c = assert_success(kz.call("PUT", f"/v2/accounts/{acct}/clicktocall",
                                 {"name": "call_1", "extension": "1", "caller_id_number": "+15550001111"},
                                 token=token), 201)
    return {"token": token, "acct": acct, "callflow": cf, "c2c": c2c,
            "connect": f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/connect"}


def query_of(request: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query, keep_blank_values=True)


def test_crud_defaults_and_list_rows(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "call_1", "extension": "1", "custom": "x"}, token=token)
    doc = assert_success(r, 201)
    assert doc == {"name": "call_1", "extension": "1", "custom": "x", "auth_required": True,
                   "custom_application_vars": {}, "id": doc["id"]}
    assert kz.cb.store.get(f"account/{acct}", doc["id"])["pvt_type"] == "click2call"
    rows = assert_success(kz.call("GET", f"/v2/accounts/{acct}/clicktocall", token=token))
    assert rows == [{"id": doc["id"], "name": "call_1", "extension": "1"}]
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "x" * 129, "extension": 1, "dial_first": "me"}, token=token)
    assert_error(r, 400, "validation error")
    assert set(r.body["data"]) == {"name", "extension", "dial_first"}
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "a", "extension": "1", "custom_application_vars": {"k": 1}},
                token=token)
    assert "custom_application_vars.k" in r.body["data"]


def test_connect_places_the_call_in_kazoos_order(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    r = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444")
    data = assert_success(r)
    c2c_id = tutorial["c2c"]["id"]
    assert re.match(rf"^c2c-{c2c_id}-[0-9a-f]{{10}}$", data["call_id"])
    assert data["application_name"] == "transfer"
    assert data["application_data"] == {"route": "+12223334444"}
    assert data["endpoints"][0]["invite_format"] == "loopback" and data["endpoints"][0]["route"] == "1"
    assert data["outbound_caller_id_name"] == "call_1"
    assert data["outbound_caller_id_number"] == "+15550001111"
    assert data["custom_application_vars"] == {"contact": "12223334444"}
    assert data["custom_channel_vars"]["authorizing_type"] == "clicktocall"
    # The Pivot server got Kazoo's first request, with the c2c call id and caller ids.
    (first,) = pivot.requests
    q = query_of(first)
    assert first.method == "GET" and first.url.startswith("https://pivot.example.com/cf?")
    assert q["Call-ID"] == [data["call_id"]]
    assert q["Account-ID"] == [tutorial["acct"]]
    assert q["Caller-ID-Name"] == ["call_1"] and q["Caller-ID-Number"] == ["+15550001111"]
    assert q["To"] == ["1"] and q["Request"] == ["1"] and q["Direction"] == ["inbound"]
    assert q["To-Realm"] == ["alpha.sip.example.com"]
    assert q["Custom-Application-Vars[contact]"] == ["12223334444"]
    # History records the success.
    hist = assert_success(kz.call("GET", f"/v2/accounts/{tutorial['acct']}/clicktocall/{c2c_id}/history",
                                  token=tutorial["token"]))
    assert [(h["result"], h["call_id"], h["contact"]) for h in hist] == [("success", data["call_id"], "+12223334444")]
    assert isinstance(hist[0]["timestamp"], int) and hist[0]["timestamp"] > 62167219200


def test_contact_from_body_and_post(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    r = kz.call("POST", tutorial["connect"], {"contact": "2223334444"}, token=tutorial["token"])
    assert assert_success(r)["application_data"] == {"route": "+12223334444"}
    assert len(pivot.requests) == 1


def test_plus_in_the_query_string_is_mangled(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    r = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=+12223334444")
    assert assert_success(r)["application_data"] == {"route": "%2012223334444"}
    # No resource rule matches the mangled contact: the callflow runs, then the call fails.
    hist = kz.call("GET", tutorial["connect"].replace("/connect", "/history"), token=tutorial["token"]).data
    assert hist[0]["result"] == "error" and hist[0]["cause"] == "no resources"


def test_missing_contact(kz: Kz, tutorial: dict[str, Any]) -> None:
    r = kz.call("GET", tutorial["connect"], token=tutorial["token"])
    assert_error(r, 400, "validation error", {
        "contact": {"required": {"message": "The contact extension for this click to call has not been set"}}
    })


def test_whitelist_is_unanchored(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    url = f"/v2/accounts/{tutorial['acct']}/clicktocall/{tutorial['c2c']['id']}"
    assert_success(kz.call("PATCH", url, {"whitelist": ["^\\+1555", "333"]}, token=tutorial["token"]))
    r = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444")
    assert_success(r)
    r = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=14445556666")
    assert_error(r, 400, "Contact doesn't match whitelist", "+14445556666")


def test_auth_required_false_allows_connect_without_token(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    assert_error(kz.call("GET", tutorial["connect"], query="contact=12223334444"), 401, "invalid_credentials")
    url = f"/v2/accounts/{tutorial['acct']}/clicktocall/{tutorial['c2c']['id']}"
    assert_success(kz.call("PATCH", url, {"auth_required": False}, token=tutorial["token"]))
    r = kz.call("GET", tutorial["connect"], query="contact=12223334444")
    assert_success(r)
    assert "auth_token" not in r.body and "version" not in r.body
    # Only connect is open: history still needs a token.
    assert_error(kz.call("GET", url + "/history"), 401, "invalid_credentials")


def test_blocking_answers_the_history_item(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    r = kz.call("POST", tutorial["connect"], {"contact": "12223334444", "blocking": True}, token=tutorial["token"])
    item = assert_success(r)
    assert item["result"] == "success" and item["call_id"].startswith("c2c-") and item["contact"] == "+12223334444"
    kz.cb.callers["+12223334444"] = "busy"
    r = kz.call("POST", tutorial["connect"], {"contact": "12223334444", "blocking": True}, token=tutorial["token"])
    assert r.status == 200
    assert r.data["result"] == "error" and r.data["cause"] == "USER_BUSY"


def test_blocking_from_the_query_string_warns(kz: Kz, tutorial: dict[str, Any]) -> None:
    r = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444&blocking=true")
    assert assert_success(r)["result"] == "success"
    assert "500" in r.headers["x-pivotsim-warning"]


@pytest.mark.parametrize(
    ("script", "cause", "requests"),
    [
        ("busy", "USER_BUSY", 1),
        ("no_answer", "timed out", 1),
        ({"outcome": "rejected"}, "CALL_REJECTED", 1),
    ],
)
def test_contact_failures(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any], script: Any, cause: str,
                          requests: int) -> None:
    r = kz.call("POST", tutorial["connect"], {"contact": "12223334444", "blocking": True, "pivotsim_caller": script},
                token=tutorial["token"])
    assert r.data["result"] == "error" and r.data["cause"] == cause
    # With dial_first extension the callflow was already running: the Pivot server saw the call.
    assert len(pivot.requests) == requests


def test_no_matching_resource(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    r = kz.call("POST", tutorial["connect"], {"contact": "1234", "blocking": True}, token=tutorial["token"])
    assert r.data == {**r.data, "result": "error", "cause": "no resources"}
    assert len(pivot.requests) == 1
    transcript = kz.call("GET", f"/v2/accounts/{tutorial['acct']}/pivotsim/calls/{pivot.requests[0].url.split('Call-ID=')[1].split('&')[0]}",
                         token=tutorial["token"])
    assert transcript.data["pivotsim_crossbar"]["cause"] == "no resources"


def test_dial_first_contact(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    url = f"/v2/accounts/{tutorial['acct']}/clicktocall/{tutorial['c2c']['id']}"
    assert_success(kz.call("PATCH", url, {"dial_first": "contact"}, token=tutorial["token"]))
    r = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444&pivotsim_caller=busy")
    data = assert_success(r)
    assert data["endpoints"][0]["route"] == "+12223334444" and data["application_data"] == {"route": "1"}
    assert pivot.requests == []  # the contact never answered, so the callflow never ran
    kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444")
    assert len(pivot.requests) == 1


def test_caller_script_presses_digits(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    def reply(request: Any) -> Any:
        q = query_of(request)
        if "Digits[pin]" in q:
            return {"module": "tts", "data": {"text": "got " + q["Digits[pin]"][0]}}
        return {"module": "collect_dtmf", "data": {"collection_name": "pin", "max_digits": 4},
                "children": {"_": {"module": "pivot", "data": {"voice_url": "https://pivot.example.com/next"}}}}

    pivot.reply = reply
    r = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444&pivotsim_caller=1234")
    call_id = assert_success(r)["call_id"]
    assert len(pivot.requests) == 2
    assert query_of(pivot.requests[1])["Digits[pin]"] == ["1234"]
    t = assert_success(kz.call("GET", f"/v2/accounts/{tutorial['acct']}/pivotsim/calls/{call_id}", token=tutorial["token"]))
    assert [req["url"].split("?")[0] for req in t["requests"]] == ["https://pivot.example.com/cf", "https://pivot.example.com/next"]
    assert t["pivotsim_crossbar"]["result"] == "success"


def test_custom_application_vars_from_query_and_body(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    r = kz.call("POST", tutorial["connect"], {"contact": "12223334444", "custom_application_vars": {"campaign": "spring"}},
                token=tutorial["token"], query="lead=42")
    assert assert_success(r)["custom_application_vars"] == {"lead": "42", "campaign": "spring"}
    q = query_of(pivot.requests[0])
    assert q["Custom-Application-Vars[campaign]"] == ["spring"] and q["Custom-Application-Vars[lead]"] == ["42"]


def test_connect_to_unknown_c2c_and_history_of_unknown(kz: Kz, tutorial: dict[str, Any]) -> None:
    ghost = "d" * 32
    base = f"/v2/accounts/{tutorial['acct']}/clicktocall/{ghost}"
    assert_error(kz.call("GET", base + "/connect", token=tutorial["token"], query="contact=1"), 404, "bad_identifier",
                 {"cause": ghost, "message": "bad identifier"})
    assert_error(kz.call("GET", base + "/history", token=tutorial["token"]), 404, "bad_identifier")
    assert_error(kz.call("PUT", base + "/connect", token=tutorial["token"]), 405, "invalid_method")
    assert_error(kz.call("GET", base + "/other", token=tutorial["token"]), 404, "not_found")


def test_history_time_range(kz: Kz, tutorial: dict[str, Any]) -> None:
    url = tutorial["connect"].replace("/connect", "/history")
    r = kz.call("GET", url, token=tutorial["token"], query="created_from=200&created_to=100")
    assert_error(r, 400, "validation error")
    assert r.body["data"]["created_from"]["date_range"]["message"] == "created_to 100 is prior to created_from 200"
    r = kz.call("GET", url, token=tutorial["token"], query="created_from=1&created_to=99999999")
    assert "date_range" in r.body["data"]["created_from"]


def test_pivot_debug_listing_and_read(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    pivot.reply = lambda req: (200, {"Content-Type": "application/json", "X-Server": "Pivot/1.0"},
                               '{"module":"hangup","data":{}}')
    call_id = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444").data["call_id"]
    base = f"/v2/accounts/{tutorial['acct']}/pivot/debug"
    rows = assert_success(kz.call("GET", base, token=tutorial["token"]))
    (row,) = rows
    assert row["call_id"] == call_id and row["iteration"] == 1 and row["status_code"] == "200"
    assert row["uri"].startswith("https://pivot.example.com/cf?") and row["has_json_errors"] is False
    assert row["has_schema_errors"] is False and re.match(r"^\d{6}-c2c-", row["debug_id"])
    assert isinstance(row["created"], int) and len(row["node"]) == 22
    docs = assert_success(kz.call("GET", f"{base}/{call_id}", token=tutorial["token"]))
    req, resp = docs
    assert req["method"] == "get" and req["req_headers"] == {} and req["req_body"] == "" and "id" in req
    assert resp["resp_status_code"] == "200" and resp["resp_headers"]["x-server"] == "pivot/1.0"
    assert resp["resp_body"] == '{"module":"hangup","data":{}}'
    assert not any(k.startswith("pvt_") for d in docs for k in d)
    by_month = assert_success(kz.call("GET", f"{base}/{row['debug_id']}", token=tutorial["token"]))
    assert [d["id"] for d in by_month] == [d["id"] for d in reversed(docs)]
    assert assert_success(kz.call("GET", f"{base}/c2c-unknown", token=tutorial["token"])) == []


def test_invalid_json_is_always_debugged(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    url = f"/v2/accounts/{tutorial['acct']}/callflows/{tutorial['callflow']['id']}"
    assert_success(kz.call("PATCH", url, {"flow": {"data": {"debug": False}}}, token=tutorial["token"]))
    pivot.reply = lambda req: (200, {"Content-Type": "application/json"}, '{"module": "tts",}')
    call_id = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444").data["call_id"]
    docs = kz.call("GET", f"/v2/accounts/{tutorial['acct']}/pivot/debug/{call_id}", token=tutorial["token"]).data
    (doc,) = docs
    assert doc["json_errors"]["message"] == "invalid JSON" and doc["resp_body"] == '{"module": "tts",}'
    row = kz.call("GET", f"/v2/accounts/{tutorial['acct']}/pivot/debug", token=tutorial["token"]).data[0]
    assert row["has_json_errors"] is True


def test_no_debug_no_debug_docs(kz: Kz, pivot: PivotStub, tutorial: dict[str, Any]) -> None:
    url = f"/v2/accounts/{tutorial['acct']}/callflows/{tutorial['callflow']['id']}"
    assert_success(kz.call("PATCH", url, {"flow": {"data": {"debug": False}}}, token=tutorial["token"]))
    kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444")
    assert kz.call("GET", f"/v2/accounts/{tutorial['acct']}/pivot/debug", token=tutorial["token"]).data == []


def test_transcripts_listing_is_read_only(kz: Kz, tutorial: dict[str, Any]) -> None:
    call_id = kz.call("GET", tutorial["connect"], token=tutorial["token"], query="contact=12223334444").data["call_id"]
    base = f"/v2/accounts/{tutorial['acct']}/pivotsim/calls"
    rows = assert_success(kz.call("GET", base, token=tutorial["token"]))
    assert [r["call_id"] for r in rows] == [call_id] and rows[0]["result"] == "success"
    t = assert_success(kz.call("GET", f"{base}/{call_id}", token=tutorial["token"]))
    assert t["pivotsim_transcript"] == 1 and t["call"]["call_id"] == call_id
    assert_error(kz.call("DELETE", f"{base}/{call_id}", token=tutorial["token"]), 405, "invalid_method")
    assert_error(kz.call("GET", f"{base}/nope", token=tutorial["token"]), 404, "bad_identifier")


def test_no_callflow_for_the_extension(kz: Kz, pivot: PivotStub, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token)
    c2c = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "c", "extension": "42"}, token=token).data
    r = kz.call("POST", f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/connect",
                {"contact": "12223334444", "blocking": True}, token=token)
    assert r.data["result"] == "error" and "42" in r.data["cause"] and pivot.requests == []


def test_extension_routed_by_pattern(kz: Kz, pivot: PivotStub, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token)
    kz.call("PUT", f"/v2/accounts/{acct}/callflows",
            {"patterns": ["^4\\d\\d$"], "flow": {"module": "pivot", "data": {"voice_url": "https://p.example/x"}}},
            token=token)
    c2c = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "c", "extension": "401"}, token=token).data
    kz.call("GET", f"/v2/accounts/{acct}/clicktocall/{c2c['id']}/connect", token=token, query="contact=12223334444")
    assert len(pivot.requests) == 1 and pivot.requests[0].url.startswith("https://p.example/x?")
