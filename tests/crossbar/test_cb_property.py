"""Random methods, paths, headers, query strings and bodies: never a 500, never outside the envelope,
and never one account's data in another account's answer."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from cb_support import RESOURCE, Clock, Kz, PivotStub, assert_success, make_app, pivot_callflow
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotsim.crossbar.auth import TokenService

MARK = {"Alpha": "zq-alpha-only-7f3e", "Beta": "zq-beta-only-91c2"}


class World:
    def __init__(self) -> None:
        self.clock = Clock()
        self.kz = Kz(make_app(self.clock, PivotStub()))
        kz = self.kz
        self.admin, self.master = kz.login("admin", "admin", "Master")
        self.tokens: dict[str, str] = {"Master": self.admin}
        self.ids: list[str] = [self.master]
        self.docs: dict[str, dict[str, str]] = {}
        for name, user, pw in (("Alpha", "john", "12345"), ("Beta", "jane", "Secret")):
            token, acct = kz.login(user, pw, name)
            self.tokens[name] = token
            mark = MARK[name]
            base = f"/v2/accounts/{acct}"
            self.ids.append(acct)
            mine = self.docs[name] = {"acct": acct}
            for noun, body in (
                ("resources", {**RESOURCE, "name": mark}),
                ("callflows", {**pivot_callflow(number="1"), "name": mark}),
                ("clicktocall", {"name": mark, "extension": "1"}),
                ("users", {"first_name": mark, "last_name": "x", "username": name, "password": "pw"}),
            ):
                mine[noun] = assert_success(kz.call("PUT", f"{base}/{noun}", body, token=token), 201)["id"]
                self.ids.append(mine[noun])
            c2c = mine["clicktocall"]
            call = kz.call("GET", f"{base}/clicktocall/{c2c}/connect", token=token, query="contact=12223334444")
            mine["call"] = assert_success(call)["call_id"]
            self.ids.append(mine["call"])
        old = TokenService(kz.cb.tokens._secret, lambda: self.clock() - 7200)
        self.tokens["expired"] = old.issue({"account_id": self.ids[1], "method": "cb_user_auth"})


@lru_cache(maxsize=1)
def world() -> World:
    return World()


NOUNS = ["accounts", "account", "callflows", "clicktocall", "resources", "users", "user_auth", "api_auth",
         "token_auth", "pivot", "debug", "pivotsim", "calls", "connect", "history", "api_key", "children",
         "collection", "descendants", "parents", "v2", ""]
text = st.text(max_size=12)
# Lone surrogates: json.dumps writes them as "\ud800" escapes, which jiffy refuses (400 json.invalid).
# Python would decode them, and a stored one used to make every answer carrying it a 500.
surrogate_text = st.tuples(text, st.lists(st.integers(0xD800, 0xDFFF).map(chr), min_size=1, max_size=2),
                           text).map(lambda t: t[0] + "".join(t[1]) + t[2])
json_text = text | surrogate_text
json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | json_text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text | st.sampled_from(
        ["name", "numbers", "patterns", "flow", "module", "data", "extension", "contact", "gateways", "credentials",
         "method", "account_name", "api_key", "blocking", "verb", "server", "rules", "auth_required", "whitelist",
         "dial_first", "voice_url", "pivotsim_caller", "id", "_id", "pvt_type", "custom_application_vars"]),
        inner, max_size=5),
    max_leaves=12,
)


SUBS = ["connect", "history", "debug", "calls", "collection", "api_key", "children", "descendants", "parents"]


TEMPLATES = [
    ("GET PUT", "/v2/accounts/{acct}/{noun}"),
    ("GET POST PATCH DELETE", "/v2/accounts/{acct}/{noun}/{id}"),
    ("GET POST", "/v2/accounts/{acct}/clicktocall/{clicktocall}/connect"),
    ("GET", "/v2/accounts/{acct}/clicktocall/{clicktocall}/history"),
    ("GET", "/v2/accounts/{acct}/pivot/debug"),
    ("GET", "/v2/accounts/{acct}/pivot/debug/{call}"),
    ("GET", "/v2/accounts/{acct}/pivotsim/calls/{call}"),
    ("GET PUT POST PATCH", "/v2/accounts/{acct}"),
    ("GET PUT", "/v2/accounts/{acct}/api_key"),
    ("PUT", "/v2/user_auth"),
    ("PUT", "/v2/api_auth"),
    ("GET DELETE", "/v2/token_auth"),
    ("GET PUT", "/v2/resources"),
]
DOC_NOUNS = ["resources", "callflows", "clicktocall", "users"]


@st.composite
def routes(draw: Any) -> tuple[str, str, str, str]:
    """(method, path, owner, noun): mostly a real route with its own ids (so deep code runs), sometimes anything."""
    w = world()
    if draw(st.integers(0, 9)) < 7:
        methods, template = draw(st.sampled_from(TEMPLATES))
        owner = draw(st.sampled_from(["Alpha", "Alpha", "Beta"]))
        docs = w.docs[owner]
        noun = draw(st.sampled_from(DOC_NOUNS))
        ids = {**docs, "noun": noun, "id": docs[noun]}
        if draw(st.integers(0, 4)) == 0:  # someone else's id, or a made-up one
            ids[draw(st.sampled_from(["acct", "id", "clicktocall", "call"]))] = draw(st.sampled_from(w.ids) | text)
        path = template.format(**{k: quote(v, safe="") for k, v in ids.items()})
        method = draw(st.sampled_from(methods.split()) if draw(st.integers(0, 4)) else st.sampled_from(METHODS))
        return method, path, owner, noun if "{noun}" in template else template.split("/")[-1]
    # (Never a leading "//": the test client would read it as a host name.)
    prefix = draw(st.sampled_from([["v2"], ["v1"], [], ["v2", ""]]))
    segs = prefix + draw(st.lists(st.sampled_from(NOUNS) | st.sampled_from(w.ids) | text, max_size=6))
    path = "/" + "/".join(quote(seg, safe="") for seg in segs)
    if path.startswith("//"):
        path = "/v2" + path
    return draw(st.sampled_from(METHODS)), path, "Alpha", ""


METHODS = ["GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FOO"]


DOCS: list[dict[str, Any]] = [
    RESOURCE,
    pivot_callflow(number="5"),
    {"name": "c", "extension": "1", "auth_required": False, "whitelist": ["^\\+1"]},
    {"first_name": "a", "last_name": "b", "username": "u", "password": "p"},
    {"contact": "12223334444", "blocking": True},
    {"credentials": "82a2dc91686ec828a67152d45a5c5ef7", "account_name": "Alpha", "method": "md5"},
    {"name": "Child account", "realm": "child.example.com"},
]

ESCAPES = ["\\ud800", "\\udfff", "\\uDBFF\\u0041", "\\ud83d\\ude00", "\\\\ud800", "\\ude00\\ud83d",
           "\\ud800\\ud800\\udc00"]

DOC_FOR = {"resources": DOCS[0], "callflows": DOCS[1], "clicktocall": DOCS[2], "users": DOCS[3], "connect": DOCS[4],
           "user_auth": DOCS[5], "{acct}": DOCS[6], "api_auth": {"api_key": "0" * 64}}


@st.composite
def queries(draw: Any) -> str:
    keys = st.sampled_from(["page_size", "paginate", "start_key", "contact", "verb", "filter_name", "filter_not_x",
                            "has_key", "blocking", "pivotsim_caller", "jsonp", "descending", "created_from",
                            "created_to", "auth_token", "pretty_print", "accept", "auto_answer"]) | text
    pairs = draw(st.lists(st.tuples(keys, text | st.sampled_from(["true", "false", "0", "-1", "busy", "PUT"])),
                          max_size=4))
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)


@st.composite
def requests(draw: Any) -> dict[str, Any]:
    w = world()
    method, path, owner, noun = draw(routes())
    who = owner if draw(st.booleans()) else draw(st.sampled_from(["Alpha", "Beta", "Master", "expired", "none",
                                                                  "garbage"]))
    headers: dict[str, str] = {}
    if who == "garbage":
        headers["X-Auth-Token"] = draw(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                                               max_size=40))
    elif who != "none":
        headers["X-Auth-Token"] = w.tokens[who]
    ctype = draw(st.sampled_from([None, "application/json", "application/json", "application/json", "application/x-www-form-urlencoded", "text/plain",
                                  "multipart/form-data; boundary=b", "application/base64", "text/csv", "foo/bar"]))
    for name, value in draw(st.lists(st.tuples(st.sampled_from(["X-Request-ID", "Origin", "X-Pretty-Print",
                                                                "Authorization", "Access-Control-Request-Method"]),
                                               st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126),
                                                       max_size=20)), max_size=2)):
        headers[name] = value
    kind = draw(st.sampled_from(["doc", "doc", "doc", "none", "none", "envelope", "json", "bytes", "escapes"]))
    body: bytes | None = None
    if kind == "doc":
        doc = dict(DOC_FOR[noun] if noun in DOC_FOR and draw(st.booleans()) else draw(st.sampled_from(DOCS)))
        for key, value in draw(st.dictionaries(st.sampled_from(sorted({k for d in DOCS for k in d})), json_values,
                                               max_size=2)).items():
            doc[key] = value
        body = json.dumps({"data": doc}).encode()
    elif kind == "envelope":
        env = {"data": draw(json_values)}
        env.update(draw(st.dictionaries(st.sampled_from(["verb", "auth_token", "contact", "Data"]), json_values,
                                        max_size=2)))
        body = json.dumps(env).encode()
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind == "bytes":
        body = draw(st.binary(max_size=60))
    elif kind == "escapes":
        # Hand-written JSON with \u escapes: lone halves, proper pairs, an escaped backslash.
        doc = dict(DOC_FOR[noun] if noun in DOC_FOR else draw(st.sampled_from(DOCS)))
        key = draw(st.sampled_from(sorted(doc)))
        escape = draw(st.sampled_from(ESCAPES))
        text_body = json.dumps({"data": {**doc, key: "@@"}}).replace('"@@"', '"x' + escape + 'y"')
        if draw(st.booleans()):
            text_body = text_body.replace('"' + key + '"', '"' + key + escape + '"', 1)
        body = text_body.encode()
    return {"method": method, "path": path, "query": draw(queries()), "headers": headers,
            "content_type": ctype, "body": body, "who": who}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(req=requests())
def test_random_requests_get_an_envelope_and_never_a_500(req: dict[str, Any]) -> None:
    w = world()
    kw: dict[str, Any] = {"method": req["method"], "headers": req["headers"]}
    if req["body"] is not None:
        kw["data"] = req["body"]
    if req["content_type"]:
        kw["content_type"] = req["content_type"]
    url = req["path"] + ("?" + req["query"] if req["query"] else "")
    resp = w.kz.client.open(url, **kw)
    status, raw = resp.status_code, resp.get_data()
    assert status < 500, (status, raw[:500])
    if req["method"] == "HEAD" or status == 415 or (req["method"] == "OPTIONS" and status == 200):
        assert raw == b""  # Cowboy's bodiless answers, and HEAD
        return
    text_body = raw.decode()
    if text_body.startswith(("cb(", "jsonp")) or resp.mimetype == "application/javascript":
        text_body = text_body[text_body.index("(") + 1 : text_body.rindex(")")]
    body = json.loads(text_body)
    assert isinstance(body, dict)
    assert body["status"] in ("success", "error")
    assert resp.headers["X-Request-ID"] == body["request_id"]
    assert isinstance(body["node"], str) and isinstance(body["timestamp"], str)
    assert "data" in body
    if body["status"] == "error":
        assert body["error"] == str(status) and isinstance(body["message"], str)
        assert "revision" not in body
    else:
        assert 200 <= status < 300
    if "version" in body:  # only an authenticated request (which always has a token) gets it
        assert body.get("auth_token")
        assert req["who"] in ("Alpha", "Beta", "Master") or body["status"] == "success"
    # Isolation: one sub-account's data never reaches the other.
    if req["who"] == "Alpha":
        assert MARK["Beta"] not in text_body
    if req["who"] in ("Beta", "none", "garbage", "expired"):
        assert MARK["Alpha"] not in text_body
    if req["who"] in ("Alpha", "none", "garbage", "expired"):
        assert MARK["Beta"] not in text_body


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["Alpha", "Beta"]), st.sampled_from(["resources", "callflows",
                                                                                    "clicktocall"]),
                              st.integers(0, 10**6)), min_size=1, max_size=8))
def test_two_accounts_never_see_each_others_documents(ops: list[tuple[str, str, int]]) -> None:
    clock = Clock()
    kz = Kz(make_app(clock, PivotStub()))
    logins = {"Alpha": kz.login(), "Beta": kz.login("jane", "Secret", "Beta")}
    created: dict[str, set[str]] = {"Alpha": set(), "Beta": set()}
    for who, noun, n in ops:
        token, acct = logins[who]
        body = {"resources": {**RESOURCE, "name": f"r{n}"},
                "callflows": {"numbers": [str(n)], "name": f"c{n}"},
                "clicktocall": {"name": f"k{n}", "extension": str(n)}}[noun]
        r = kz.call("PUT", f"/v2/accounts/{acct}/{noun}", body, token=token)
        if r.status == 201:
            created[who].add(r.data["id"])
    for who, other in (("Alpha", "Beta"), ("Beta", "Alpha")):
        token, acct = logins[who]
        seen: set[str] = set()
        for noun in ("resources", "callflows", "clicktocall"):
            seen |= {row["id"] for row in kz.call("GET", f"/v2/accounts/{acct}/{noun}", token=token).data}
            for doc_id in created[other]:
                r = kz.call("GET", f"/v2/accounts/{acct}/{noun}/{doc_id}", token=token)
                assert r.status == 404 and r.body["message"] == "bad_identifier"
            r = kz.call("GET", f"/v2/accounts/{logins[other][1]}/{noun}", token=token)
            assert r.status == 403 and r.body["message"] == "forbidden"
        assert seen == created[who]


