"""Kazoo's client-URL blacklist (contract §6): what is blocked, and what is not."""

from __future__ import annotations

import socket

import pytest

from pivotsim._blacklist import DEFAULT_CIDRS, DEFAULT_HOSTS, Blacklist, split_client_url


@pytest.fixture
def default() -> Blacklist:
    return Blacklist()


def test_defaults_are_kazoos() -> None:
    bl = Blacklist()
    assert bl.cidrs == ("127.0.0.1/32", "0.0.0.0/32") == DEFAULT_CIDRS
    assert bl.hosts == ("localhost",) == DEFAULT_HOSTS
    assert bl == Blacklist(cidrs=DEFAULT_CIDRS, hosts=DEFAULT_HOSTS)
    assert "127.0.0.1/32" in repr(bl)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/ivr",
        "https://localhost",
        "http://LocalHost:8080/ivr",  # the host is lowercased, the port stripped
        "http://user:secret@localhost/x",  # credentials stripped
        "http://localhost?x=1",
        "http://localhost#frag",
    ],
)
def test_blacklisted_host_names(default: Blacklist, url: str) -> None:
    reason = default.reason(url)
    assert reason is not None
    assert "localhost" in reason.lower()
    assert "client.blacklist.hosts" in reason
    assert not default.allows(url)


@pytest.mark.parametrize(
    ("url", "cidr"),
    [
        ("http://127.0.0.1/ivr", "127.0.0.1/32"),
        ("http://127.0.0.1:5000/ivr", "127.0.0.1/32"),
        ("https://0.0.0.0/", "0.0.0.0/32"),
        ("http://me:pw@127.0.0.1:8000/a?b=c", "127.0.0.1/32"),
    ],
)
def test_blacklisted_ip_literals(default: Blacklist, url: str, cidr: str) -> None:
    reason = default.reason(url)
    assert reason is not None
    assert cidr in reason
    assert "client.blacklist.cidrs" in reason


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost./ivr",  # exact match only: a trailing dot passes
        "http://foo.localhost/ivr",  # no subdomain matching
        "http://localhost.example.com/",
        "http://127.0.0.2/ivr",  # only 127.0.0.1/32, not 127/8
        "http://10.1.2.3/ivr",  # RFC 1918 is not blocked by default
        "http://192.168.1.10:8080/ivr",
        "https://172.16.0.1/",
        "https://pivot.example.com/ivr.php?x=1",
        "http://[::1]:8080/ivr",  # IPv6 loopback is not in the default CIDRs
    ],
)
def test_allowed_by_default(default: Blacklist, url: str) -> None:
    assert default.reason(url) is None
    assert default.allows(url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "HTTP://example.com/",
        "file:///etc/passwd",
        "example.com/ivr",
        "//example.com/x",
    ],
)
def test_scheme_must_be_http_or_https(default: Blacklist, url: str) -> None:
    reason = default.reason(url)
    assert reason is not None
    assert "http" in reason and "scheme" in reason


def test_custom_lists() -> None:
    bl = Blacklist(cidrs=("10.0.0.0/8", "::1/128"), hosts=("internal.example",))
    assert bl.reason("http://10.200.3.4/x") is not None
    assert bl.reason("http://[::1]/x") is not None
    assert bl.reason("http://Internal.Example:81/x") is not None
    assert bl.reason("http://127.0.0.1/x") is None  # replaced, not added to the defaults
    assert bl.reason("http://localhost/x") is None
    assert Blacklist(cidrs=(), hosts=()).reason("http://localhost/") is None


def test_no_dns_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the blacklist must not resolve names")

    monkeypatch.setattr(socket, "getaddrinfo", boom)
    monkeypatch.setattr(socket, "gethostbyname", boom)
    # localtest.me resolves to 127.0.0.1 in real DNS, yet Kazoo lets it through.
    assert Blacklist().reason("http://localtest.me/ivr") is None
    assert Blacklist().reason("http://localhost/ivr") is not None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com/a", ("http", "example.com")),
        ("https://u:p@Example.com:8443/a?b#c", ("https", "Example.com")),
        ("http://[::1]:80/", ("http", "::1")),
        ("http://host?q", ("http", "host")),
        ("mailto:x@y", ("mailto", "")),
        ("no scheme://x", ("", "")),
    ],
)
def test_split_client_url(url: str, expected: tuple[str, str]) -> None:
    assert split_client_url(url) == expected
