"""The envelope and the transport rules every route shares (crossbar-facts section 1)."""

from __future__ import annotations

import json
import re

from cb_support import NODE_RE, RESOURCE, Kz, assert_error, assert_success

from pivotsim.crossbar.errors import MAX_UPLOAD_SIZE


def test_success_envelope_keys(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token)
    data = assert_success(r, 201)
    body = r.body
    assert body["auth_token"] == token
    assert re.match(NODE_RE, body["node"])
    assert re.match(r"^[0-9a-f]{32}$", body["request_id"])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body["timestamp"])
    assert body["version"]
    assert re.match(r"^1-[0-9a-f]{32}$", body["revision"])
    assert body["tokens"] == {"consumed": 1, "remaining": body["tokens"]["remaining"]}
    assert r.headers["location"] == f"/v2/accounts/{acct}/resources/{data['id']}"


def test_unauthenticated_error_has_no_token_and_no_version(kz: Kz) -> None:
    r = kz.call("GET", "/v2/token_auth")
    assert_error(r, 401, "invalid_credentials", {"message": "invalid credentials"})
    assert "auth_token" not in r.body
    assert "version" not in r.body


def test_request_id_is_adopted_and_echoed(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token, headers={"X-Request-ID": "my-trace-1"})
    assert r.body["request_id"] == "my-trace-1"
    assert r.headers["x-request-id"] == "my-trace-1"
    r = kz.call("GET", "/v2/nope", headers={"X-Request-ID": "my-trace-2"})
    assert r.headers["x-request-id"] == "my-trace-2" == r.body["request_id"]


def test_v1_is_gone(kz: Kz) -> None:
    r = kz.call("GET", "/v1/accounts")
    assert_error(r, 410, "gone")
    assert r.body["data"]["message"].startswith("API version 1 is not supported")


def test_list_revision_is_md5_of_data_and_etag(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    kz.call("PUT", f"/v2/accounts/{acct}/resources", RESOURCE, token=token)
    r = kz.call("GET", f"/v2/accounts/{acct}/resources", token=token)
    assert_success(r)
    assert re.match(r"^[0-9a-f]{32}$", r.body["revision"])
    assert r.headers["etag"] == f'"{r.body["revision"]}"'
    empty = kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token)
    assert "revision" not in empty.body


def test_cors_preflight_skips_auth(kz: Kz, alpha: tuple[str, str]) -> None:
    _, acct = alpha
    r = kz.call(
        "OPTIONS",
        f"/v2/accounts/{acct}/callflows",
        headers={"Origin": "http://app.example", "Access-Control-Request-Method": "DELETE"},
    )
    assert r.status == 200 and r.raw == b""
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == "OPTIONS, GET, PUT, DELETE"
    assert "x-auth-token" in r.headers["access-control-allow-headers"]
    assert r.headers["access-control-max-age"] == "86400"


def test_cors_headers_on_cors_requests_and_on_all_errors(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    plain = kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token)
    assert "access-control-allow-origin" not in plain.headers
    cors = kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token, headers={"Origin": "http://x"})
    assert cors.headers["access-control-allow-origin"] == "*"
    err = kz.call("GET", f"/v2/accounts/{acct}/callflows")
    assert err.headers["access-control-allow-origin"] == "*"
    assert "x-request-id" in err.headers["access-control-expose-headers"]


def test_pretty_print_and_jsonp(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("GET", f"/v2/accounts/{acct}/callflows", token=token, headers={"X-Pretty-Print": "true"})
    assert b"\n  " in r.raw
    r = kz.client.get(f"/v2/accounts/{acct}/callflows?jsonp=cb", headers={"X-Auth-Token": token})
    text = r.get_data(as_text=True)
    assert text.startswith("cb(") and text.endswith(");")
    assert json.loads(text[3:-2])["status"] == "success"


# -- request bodies ---------------------------------------------------------------------


def test_malformed_json_is_400_before_auth(kz: Kz, alpha: tuple[str, str]) -> None:
    _, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", raw='{"data": {')
    assert_error(r, 400, "validation error")
    invalid = r.body["data"]["json"]["invalid"]
    assert invalid["target"] == "body"
    assert re.match(r"^\w+ around \d+$", invalid["message"])


def test_missing_data_is_400(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", envelope={"numbers": ["1"]}, token=token)
    assert_error(r, 400, "validation error")
    assert r.body["data"]["data"]["required"]["message"] == "Field is required but missing"


def test_data_of_wrong_type_is_400(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/callflows", envelope={"data": "numbers"}, token=token)
    assert_error(r, 400, "validation error")
    assert r.body["data"]["data"]["type"]["target"] == "object, array"


def test_empty_body_means_empty_data(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", token=token)
    assert_error(r, 400, "validation error")
    assert set(r.body["data"]) == {"extension", "name"}


def test_envelope_keys_are_normalised(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", envelope={"DATA": {"name": "a", "extension": "1"}}, token=token)
    assert_success(r, 201)


def test_curl_form_encoded_json_body_works(kz: Kz, alpha: tuple[str, str]) -> None:
    """``curl -d '{...}'`` sends application/x-www-form-urlencoded with a JSON body."""
    token, acct = alpha
    body = json.dumps({"data": {"name": "call_1", "extension": "1"}})
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw=body, token=token,
                content_type="application/x-www-form-urlencoded")
    assert assert_success(r, 201)["name"] == "call_1"


def test_curl_form_quirk_with_equals_sign(kz: Kz, alpha: tuple[str, str]) -> None:
    """JSON holding ``=`` parses as a real form, and the envelope then lacks ``data``."""
    token, acct = alpha
    body = json.dumps({"data": {"name": "a=b", "extension": "1"}})
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw=body, token=token,
                content_type="application/x-www-form-urlencoded")
    assert_error(r, 400, "validation error")
    assert "required" in r.body["data"]["data"]


def test_no_content_type_is_json_and_put_gets_rfc2616_header(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", {"name": "a", "extension": "1"}, token=token, content_type=None)
    assert_success(r, 201)
    assert r.headers["x-rfc2616"] == "Section 14.17 (Try it, you'll like it)"


def test_unsupported_content_type_is_a_bodiless_415(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw="hello", token=token, content_type="text/plain")
    assert r.status == 415 and r.raw == b""


def test_415_comes_after_authentication(kz: Kz, alpha: tuple[str, str]) -> None:
    _, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw="hello", content_type="text/plain")
    assert_error(r, 401, "invalid_credentials")


def test_body_over_8mb_is_400_max_size(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw=b"x" * (MAX_UPLOAD_SIZE + 1), token=token)
    assert_error(r, 400, "validation error")
    assert r.body["data"]["file"]["maxSize"] == {
        "message": f"Payload or Files must not be more than {MAX_UPLOAD_SIZE} bytes",
        "target": MAX_UPLOAD_SIZE,
    }


def test_multipart_json_part_is_the_request(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    boundary = "XyZ"
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n"
        + json.dumps({"data": {"name": "mp", "extension": "7"}})
        + f"\r\n--{boundary}\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--{boundary}--\r\n"
    )
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw=body, token=token,
                content_type=f"multipart/form-data; boundary={boundary}")
    assert assert_success(r, 201)["extension"] == "7"


def test_verb_tunnelling_through_post(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("POST", f"/v2/accounts/{acct}/clicktocall", {"name": "t", "extension": "1"}, token=token, query="verb=PUT")
    created = assert_success(r, 201)
    r = kz.call("POST", f"/v2/accounts/{acct}/clicktocall/{created['id']}", envelope={"data": {}, "verb": "delete"}, token=token)
    assert assert_success(r)["_read_only"] == {"deleted": True}
    # A tunnelled verb the path does not allow removes POST: 405.
    r = kz.call("POST", f"/v2/accounts/{acct}/clicktocall", {"name": "t", "extension": "1"}, token=token, query="verb=DELETE")
    assert_error(r, 405, "invalid_method", {"message": "method not allowed"})


def test_x_http_method_override_is_not_honoured(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("POST", f"/v2/accounts/{acct}/clicktocall", {"name": "t", "extension": "1"}, token=token,
                headers={"X-HTTP-Method-Override": "PUT"})
    assert_error(r, 405, "invalid_method")


def test_unknown_method_is_405_envelope(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PROPFIND", f"/v2/accounts/{acct}/callflows", token=token)
    assert_error(r, 405, "invalid_method")


def test_unknown_top_level_noun(kz: Kz, alpha: tuple[str, str]) -> None:
    token, _ = alpha
    assert_error(kz.call("GET", "/v2/foo"), 401, "invalid_credentials")
    assert_error(kz.call("GET", "/v2/foo", token=token), 404, "not_found", {"message": "not found"})


def test_unknown_sub_noun_is_404(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    assert_error(kz.call("GET", f"/v2/accounts/{acct}/foo", token=token), 404, "not_found")
    assert_error(kz.call("GET", f"/v2/accounts/{acct}/pivot", token=token), 404, "not_found")


def test_account_id_format_and_existence(kz: Kz, alpha: tuple[str, str]) -> None:
    token, _ = alpha
    r = kz.call("GET", "/v2/accounts/abc/callflows", token=token)
    assert_error(r, 404, "bad identifier", {"message": "invalid account_id 'abc'"})
    r = kz.call("GET", "/v2/accounts//callflows", token=token)
    assert_error(r, 404, "bad identifier", {"message": "missing account_id"})
    ghost = "f" * 32
    r = kz.call("GET", f"/v2/accounts/{ghost}/callflows", token=token)
    assert_error(r, 404, "bad_identifier", {"cause": ghost, "message": "bad identifier"})


def test_account_alias(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("GET", "/v2/account/callflows", token=token)
    assert_success(r)
    r = kz.call("GET", f"/v2/accounts/{acct}", token=token)
    assert assert_success(r)["name"] == "Alpha"
    assert_error(kz.call("GET", "/v2/account/callflows"), 401, "invalid credentials", {})


def test_a_request_id_that_cannot_be_echoed_is_replaced(kz: Kz) -> None:
    r = kz.call("GET", "/v2/nope", headers={"X-Request-ID": "a" * 300})
    assert re.match(r"^[0-9a-f]{32}$", r.body["request_id"])
    assert r.headers["x-request-id"] == r.body["request_id"]


def test_cors_preflight_still_checks_the_account_id(kz: Kz) -> None:
    r = kz.call("OPTIONS", "/v2/accounts/short/callflows", headers={"Origin": "http://x"})
    assert_error(r, 404, "bad identifier", {"message": "invalid account_id 'short'"})
    assert_error(kz.call("OPTIONS", "/v2/accounts/" + "a" * 32 + "/nope"), 404, "not_found")


def test_a_json_body_that_is_not_an_object(kz: Kz, alpha: tuple[str, str]) -> None:
    token, acct = alpha
    r = kz.call("PUT", f"/v2/accounts/{acct}/clicktocall", raw="[1, 2]", token=token)
    assert_error(r, 400, "validation error", {"json": {"invalid": {"message": "All JSON must be valid", "target": "body"}}})
