"""TwiML recognition and safe parsing; Content-Type dispatch of TwiML replies (contract §2.2, §4.1, §9 item 6)."""

from __future__ import annotations

import gzip

import pytest
from apps.twiml_ivr import html_ivr
from apps.twiml_kit import BASE, codes, diag, doc, live_server, place, twiml_app, xml
from flask import Response

from pivotsim._engine import Engine, pivot_flow
from pivotsim._transports import HTTPTransport, WSGITransport
from pivotsim._twiml import recognize
from pivotsim._twiml_xml import MAX_BYTES, MAX_DEPTH, parse

SAY = "<Say>hello</Say><Hangup/>"


# -- recognition --------------------------------------------------------------------------
def test_a_response_root_is_recognised_and_keeps_whitespace_text() -> None:
    root, why = recognize(doc("\n  <Say>hi</Say>\n"))
    assert why == ""
    assert root.tag == "Response"
    assert [c.tag for c in root.elements()] == ["Say"]
    assert root.children[0].value == "\n  "  # xmerl keeps whitespace-only text


def test_another_root_is_not_recognised() -> None:
    root, why = recognize("<Twiml><Say>hi</Say></Twiml>")
    assert root is None
    assert "<Twiml>" in why


def test_malformed_xml_is_reported_with_line_and_column() -> None:
    root, why = recognize("<Response>\n  <Say>hi</Sya>\n</Response>")
    assert root is None
    assert "mismatched tag" in why
    assert "line 2, column" in why


def test_a_declaration_after_a_newline_is_explained() -> None:
    root, why = recognize('\n<?xml version="1.0"?><Response/>')
    assert root is None
    assert "line 2, column 1" in why
    assert "triple-quoted" in why


def test_entity_declarations_are_refused_so_billion_laughs_cannot_expand() -> None:
    lol = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Response><Say>&b;</Say></Response>'
    )
    root, why = recognize(lol)
    assert root is None
    assert "refuses" in why and "entity 'a'" in why and "billion laughs" in why


def test_external_entities_and_dtds_are_refused() -> None:
    xxe = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><Say>&x;</Say></Response>'
    root, why = recognize(xxe)
    assert root is None and "refuses" in why
    root, why = recognize('<!DOCTYPE Response SYSTEM "http://evil.example/t.dtd"><Response/>')
    assert root is None and "external DTD" in why


def test_a_plain_doctype_is_harmless_and_accepted() -> None:
    root, why = recognize("<!DOCTYPE Response><Response><Hangup/></Response>")
    assert why == "" and root.tag == "Response"


def test_huge_and_deep_documents_are_refused() -> None:
    big = doc("<Say>" + "x" * (MAX_BYTES + 1) + "</Say>")
    root, why = recognize(big)
    assert root is None and "bytes" in why and "refuses" in why
    deep = "<Response>" + "<Set>" * (MAX_DEPTH + 1) + "</Set>" * (MAX_DEPTH + 1) + "</Response>"
    root, why = recognize(deep)
    assert root is None and "deep" in why


def test_namespace_prefixes_are_kept_as_xmerl_keeps_them() -> None:
    root, _ = recognize('<Response xmlns:k="urn:k"><k:Say>hi</k:Say></Response>')
    assert root.elements()[0].tag == "k:Say"
    root, _ = recognize('<Response xmlns="urn:default"><Say>hi</Say></Response>')
    assert root.tag == "Response" and root.elements()[0].tag == "Say"


def test_cdata_is_not_text_for_kazoo() -> None:
    root, _ = parse("<Response><Say><![CDATA[hidden]]> shown </Say></Response>")
    say = root.elements()[0]
    assert say.text() == "shown"
    assert say.has_cdata()


def test_trailing_content_after_the_root_is_ignored_like_xmerl() -> None:
    app = twiml_app({"/ivr/welcome.xml": xml(doc(SAY) + "<!-- debug --> trailing junk", wrap=False)})
    t = place(app)
    assert t.prompts == ["hello"]
    assert "trailing junk" in diag(t, "twiml.trailing_content")


# -- refusal and malformed XML in a call --------------------------------------------------
def test_a_refused_document_is_an_unrecognised_reply_with_the_reason() -> None:
    evil = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><Say>&x;</Say></Response>'
    t = place(twiml_app({"/ivr/welcome.xml": xml(evil, wrap=False)}))
    assert t.end.reason == "hangup"
    assert "refuses" in diag(t, "reply.not_recognized")
    assert t.prompts == []


def test_malformed_twiml_in_a_call_names_line_and_column() -> None:
    t = place(twiml_app({"/ivr/welcome.xml": xml("<Response>\n<Say>hi</Say>\n<Hangup>", wrap=False)}))
    assert t.end.reason == "hangup"
    msg = diag(t, "reply.not_recognized")
    assert "line 3" in msg and "column" in msg


def test_a_reply_over_the_transport_cap_is_refused_like_a_huge_document() -> None:
    cap = 2_000_000  # the real cap is 32 MiB; a small one keeps the test fast
    big = xml("<Say>" + "x" * (cap + 1) + "</Say>")
    app = twiml_app({"/ivr/welcome.xml": big, "/ivr/small.xml": "<Redirect>big.xml</Redirect>",
                     "/ivr/big.xml": big})
    for url, index in ((f"{BASE}/ivr/welcome.xml", 0), (f"{BASE}/ivr/small.xml", 1)):
        t = place(WSGITransport(app, max_body_bytes=cap), url)
        assert t.end.reason == "hangup", (url, t.end)
        assert t.requests[index].outcome == "not_recognized"
        msg = diag(t, "reply.not_recognized")
        assert str(cap) in msg and "bytes" in msg
        assert "reply.no_reply" not in codes(t) and "twiml.follow_up_failed" not in codes(t)
        assert t.end.t_ms < 10_000 and t.prompts == []  # no cf_pivot wait, no dead air


def test_a_gzipped_follow_up_is_read_as_the_compressed_bytes_kazoo_sees() -> None:
    # httpc neither sends Accept-Encoding nor decompresses, so a gzip bomb is no bomb to
    # Kazoo: it reads ~10 kB of binary that is no <Response>, and hangs up.
    bomb = gzip.compress(b"<Response><Say>" + b"lol " * 2_000_000 + b"</Say></Response>")
    app = twiml_app({
        "/ivr/welcome.xml": "<Redirect>bomb.xml</Redirect>",
        "/ivr/bomb.xml": Response(bomb, content_type="text/xml", headers={"Content-Encoding": "gzip"}),
    })
    with live_server(app) as base:
        engine = Engine(HTTPTransport(), validator=None)
        t = engine.run(pivot_flow(f"{base}/ivr/welcome.xml", req_format="twiml"))
    assert t.end.reason == "hangup" and t.prompts == []
    assert "Content-Encoding: gzip" in diag(t, "reply.not_recognized")
    assert t.requests[1].body_bytes == len(bomb)


# -- Content-Type dispatch (§2.2, §9 item 6) ---------------------------------------------
@pytest.mark.parametrize("ctype", ["text/xml", "application/xml", "text/xml; charset=utf-8"])
def test_xml_content_types_run_twiml(ctype: str) -> None:
    t = place(twiml_app({"/ivr/welcome.xml": xml(SAY, content_type=ctype)}))
    assert t.prompts == ["hello"]
    assert t.end.reason == "hangup"


def test_a_missing_content_type_means_twiml() -> None:
    def bare(environ, start_response):
        start_response("200 OK", [])
        return [doc(SAY).encode()]

    t = place(bare)
    assert t.prompts == ["hello"]
    assert t.requests[0].content_type is None


@pytest.mark.parametrize("ctype", ["text/html; charset=utf-8", "text/plain"])
def test_twiml_served_as_html_or_plain_text_is_a_json_error_and_a_hangup(ctype: str) -> None:
    t = place(twiml_app({"/ivr/welcome.xml": xml(SAY, content_type=ctype)}))
    assert t.prompts == []
    assert t.end.reason == "hangup"
    msg = diag(t, "reply.json_error")
    assert "TwiML served as" in msg and "text/xml" in msg
    assert t.requests[0].json_errors is True


def test_flask_returning_a_string_serves_text_html_and_kazoo_hangs_up() -> None:
    t = place(html_ivr(), f"{BASE}/voice")
    assert t.requests[0].content_type.startswith("text/html")
    assert t.end.reason == "hangup"
    assert t.prompts == []
    assert "TwiML served as text/html" in diag(t, "reply.json_error")


def test_flask_string_reply_on_a_follow_up_also_hangs_up() -> None:
    t = place(html_ivr(), f"{BASE}/start.xml")
    assert [r.url for r in t.requests] == [t.requests[0].url, f"{BASE}/voice"]
    assert t.end.reason == "hangup"
    assert "TwiML served as text/html" in diag(t, "reply.json_error")
    assert "(TwiML follow-up)" in diag(t, "reply.json_error")


def test_json_as_text_html_on_a_follow_up_hands_over_to_callflow() -> None:
    import json

    node = {"module": "tts", "data": {"text": "json here"}}
    app = twiml_app({
        "/ivr/welcome.xml": "<Redirect>next</Redirect>",
        "/ivr/next": Response(json.dumps(node), content_type="text/html"),
    })
    t = place(app)
    assert t.prompts == ["json here"]
    assert "reply.content_type" in codes(t)


# -- empty and whitespace documents ---------------------------------------------------------
def test_an_empty_response_is_dead_air() -> None:
    t = place(twiml_app({"/ivr/welcome.xml": xml("<Response/>", wrap=False)}))
    assert t.end.reason == "dead_air"
    assert "filter_empty_text" in diag(t, "twiml.empty_response")


def test_a_whitespace_only_response_just_ends_the_document_and_hangs_up() -> None:
    t = place(twiml_app({"/ivr/welcome.xml": xml("<Response>\n</Response>", wrap=False)}))
    assert t.end.reason == "hangup"
    assert t.end.detail == "the TwiML document ended"
