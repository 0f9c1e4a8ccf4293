"""Follow-up URLs and methods (contract §4.6, §9 item 22): resolve_uri, POST by default, trimming."""

from __future__ import annotations

import pytest
from apps.twiml_ivr import extensionless_ivr
from apps.twiml_kit import BASE, codes, diag, place, twiml_app, xml

from pivotsim._urls import MethodError, ResolveError, http_method, resolve_uri, texts_trim


@pytest.mark.parametrize(
    "current, action, expected",
    [
        # Kazoo's own tests (core/kazoo_web/test/kz_http_util_tests.erl)
        ("http://pivot/script.php", "script2.php", "http://pivot/script2.php"),
        ("http://pivot/script.php", "/script2.php", "http://pivot/script2.php"),
        ("script2.php", None, "script2.php"),
        ("script2.php", "http://pivot/script.php", "http://pivot/script.php"),
        ("http://host/d1/d2/d3/file.ext", "../.././a", "http://host/d1/d2/a"),
        # the contract's example: a leading / is not root-relative
        ("http://h/d/a.php", "/b.php", "http://h/d/b.php"),
        # extensionless routes: the last segment has no dot, so it is a directory
        ("http://h/ivr/welcome", "/ivr/menu", "http://h/ivr/welcome/ivr/menu"),
        ("http://h/ivr/welcome", "menu", "http://h/ivr/welcome/menu"),
        ("http://h/ivr/", "menu", "http://h/ivr/menu"),
        ("http://h/ivr/welcome.xml", "menu", "http://h/ivr/menu"),
        # the query string belongs to the last segment
        ("http://h/ivr.php?lang=en", "menu.php", "http://h/menu.php"),
        ("http://h/ivr?lang=en", "menu", "http://h/ivr?lang=en/menu"),
        # no path: the host name has a dot, so it is taken for a file name
        ("http://ivr.example.com", "menu", "http://menu"),
        # anything starting with "http" is absolute, even a relative file name
        ("http://h/a.php", "https://other/x", "https://other/x"),
        ("http://h/a.php", "http_handler.php", "http_handler.php"),
        # empty segments and "." vanish
        ("http://h/a/b.php", "./c//d.php", "http://h/a/c/d.php"),
        ("http://h/a/b.php", "", "http://h/a/b.php"),
    ],
)
def test_resolve_uri_matches_kazoo(current: str, action: str | None, expected: str) -> None:
    assert resolve_uri(current, action) == expected


def test_dot_dot_past_the_scheme_then_a_name_crashes() -> None:
    with pytest.raises(ResolveError):
        resolve_uri("http://h/a.php", "../../../../x")


@pytest.mark.parametrize("value, expected", [(None, "post"), ("GET", "get"), ("get", "get"), ("Post", "post"),
                                             ("banana", "post"), ("undefined", "post")])
def test_http_method_defaults_to_post(value: str | None, expected: str) -> None:
    assert http_method(value)[0] == expected


@pytest.mark.parametrize("value", ["PUT", "delete", "PATCH"])
def test_http_methods_erlang_knows_as_atoms_crash(value: str) -> None:
    with pytest.raises(MethodError):
        http_method(value)


def test_texts_are_trimmed_of_spaces_and_newlines_only() -> None:
    assert texts_trim("\n    http://h/x.xml\n  ") == "http://h/x.xml"
    assert texts_trim("\n\thttp://h/x.xml\n\t") == "\thttp://h/x.xml\n\t"


# -- in a call ----------------------------------------------------------------------------------
def test_initial_request_is_get_and_follow_ups_default_to_post() -> None:
    app = twiml_app({
        "/ivr/welcome.xml": '<Gather numDigits="1" action="menu.xml"><Say>pick</Say></Gather>',
        "/ivr/menu.xml": "<Redirect>bye.xml</Redirect>",
        "/ivr/bye.xml": "<Hangup/>",
    })
    t = place(app, caller=["1"])
    assert [(s["method"], s["path"]) for s in app.seen] == [
        ("GET", "/ivr/welcome.xml"), ("POST", "/ivr/menu.xml"), ("POST", "/ivr/bye.xml")]
    assert [r.purpose for r in t.requests] == ["voice_url", "twiml_action", "redirect"]
    assert app.seen[1]["form"]["Digits"] == "1"
    assert t.requests[1].headers == {"Content-Type": "application/x-www-form-urlencoded"}


def test_method_attribute_is_case_insensitive_and_get_puts_params_in_the_query() -> None:
    app = twiml_app({
        "/ivr/welcome.xml": '<Redirect method="get">next.xml?step=2</Redirect>',
        "/ivr/next.xml": "<Hangup/>",
    })
    place(app)
    assert app.seen[1]["method"] == "GET"
    assert app.seen[1]["args"]["step"] == "2"
    assert app.seen[1]["args"]["ApiVersion"] == "2010-04-01"


def test_an_unknown_method_silently_becomes_post() -> None:
    app = twiml_app({"/ivr/welcome.xml": '<Redirect method="FETCH">next.xml</Redirect>',
                     "/ivr/next.xml": "<Hangup/>"})
    t = place(app)
    assert app.seen[1]["method"] == "POST"
    assert "twiml.unknown_method" in codes(t)


def test_method_put_is_a_twiml_error_and_a_hangup() -> None:
    app = twiml_app({"/ivr/welcome.xml": '<Redirect method="PUT">next.xml</Redirect>'})
    t = place(app)
    assert len(app.seen) == 1
    assert t.end.reason == "hangup"
    assert "try_clause" in diag(t, "twiml.bad_method")


def test_extensionless_routes_with_root_relative_actions_break_on_kazoo() -> None:
    app = extensionless_ivr()
    t = place(app, f"{BASE}/ivr/welcome", caller=["1"])
    assert app.seen[1][:2] == ("POST", "/ivr/welcome/ivr/menu")
    assert t.requests[1].status == 404
    assert t.end.reason == "dead_air"
    note = diag(t, "twiml.url_resolution")
    assert "root-relative" in note and "/ivr/welcome/ivr/menu" in note
    assert "_external=True" in note  # how to fix it
    failed = diag(t, "twiml.follow_up_failed")
    assert "see twiml.url_resolution" in failed and "root-relative" not in failed  # told once


def test_relative_actions_resolve_under_an_extensionless_route() -> None:
    app = extensionless_ivr(action="menu")
    t = place(app, f"{BASE}/ivr/welcome", caller=["2"])
    assert app.seen[1][:2] == ("POST", "/ivr/welcome/menu")
    assert t.prompts[-1] == "Connecting you to support"
    assert "extensionless" in diag(t, "twiml.url_resolution")


def test_a_trailing_slash_makes_extensionless_routes_resolve_as_twilio_does() -> None:
    app = twiml_app({"/ivr/": '<Redirect>menu</Redirect>', "/ivr/menu": "<Hangup/>"})
    t = place(app, f"{BASE}/ivr/")
    assert app.seen[1]["path"] == "/ivr/menu"
    assert "twiml.url_resolution" not in codes(t)


def test_each_follow_up_resolves_against_the_latest_url() -> None:
    app = twiml_app({
        "/a/start.xml": "<Redirect>../b/next.xml</Redirect>",
        "/a/b/next.xml": "<Redirect>last.xml</Redirect>",
        "/a/b/last.xml": "<Hangup/>",
    })
    t = place(app, f"{BASE}/a/start.xml")
    # ".." pops the file name first: /a/start.xml -> /a -> /a/b/next.xml; then last.xml replaces
    # next.xml in the URL of the latest request, not in the voice_url.
    assert [s["path"] for s in app.seen] == ["/a/start.xml", "/a/b/next.xml", "/a/b/last.xml"]
    assert t.end.reason == "hangup" and t.end.detail == "<Hangup/>"


def test_follow_ups_that_change_directory_resolve_against_the_new_directory() -> None:
    app = twiml_app({
        "/a/start.xml": '<Gather numDigits="1" action="sub/next.xml"><Say>pick</Say></Gather>',
        "/a/sub/next.xml": "<Redirect>last.xml</Redirect>",
        "/a/sub/last.xml": "<Hangup/>",
    })
    t = place(app, f"{BASE}/a/start.xml", caller=["1"])
    assert [s["path"] for s in app.seen] == ["/a/start.xml", "/a/sub/next.xml", "/a/sub/last.xml"]
    assert [r.url for r in t.requests[1:]] == [f"{BASE}/a/sub/next.xml", f"{BASE}/a/sub/last.xml"]
    assert t.end.detail == "<Hangup/>"


def test_redirect_url_text_is_trimmed_of_spaces_and_newlines() -> None:
    app = twiml_app({"/ivr/welcome.xml": "<Redirect>\n      next.xml\n    </Redirect>",
                     "/ivr/next.xml": "<Hangup/>"})
    t = place(app)
    assert app.seen[1]["path"] == "/ivr/next.xml"
    assert t.end.detail == "<Hangup/>"


def test_tab_indented_redirect_urls_keep_their_tabs() -> None:
    app = twiml_app({"/ivr/welcome.xml": xml("<Response>\n\t<Redirect>\n\t\tnext.xml\n\t</Redirect>\n</Response>",
                                             wrap=False)})
    t = place(app)
    assert "\t" in t.requests[1].url
    assert "twiml.url_whitespace" in codes(t)
    assert t.end.reason == "dead_air"  # the tab-polluted URL is a 404


def test_a_redirect_without_url_requests_the_current_url_again() -> None:
    calls = []

    def welcome(seen):
        calls.append(seen["method"])
        return "<Redirect/>" if len(calls) == 1 else "<Hangup/>"

    t = place(twiml_app({"/ivr/welcome.xml": welcome}))
    assert calls == ["GET", "POST"]
    assert t.requests[1].url == f"{BASE}/ivr/welcome.xml"
    assert "twiml.redirect_empty" in codes(t)


def test_the_voice_url_query_string_is_kept_and_params_appended_for_get() -> None:
    app = twiml_app({"/ivr/welcome.xml": "<Hangup/>"})
    place(app, f"{BASE}/ivr/welcome.xml?tenant=acme")
    assert app.seen[0]["args"]["tenant"] == "acme"
    assert app.seen[0]["args"]["CallSid"]
