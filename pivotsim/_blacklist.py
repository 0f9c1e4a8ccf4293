"""Kazoo's client-URL blacklist (the ``kazoo-validation`` check on URL fields).

Kazoo refuses a callflow whose ``pivot.voice_url``, ``record_call.url``,
``record_caller.url`` or ``webhook.uri`` points at a "client" it considers
unsafe.  The check happens only while a callflow is validated against its
JSON schema (a Crossbar save, or a Pivot reply), never when the HTTP request
is made, and it does no DNS resolution.  The defaults come from the
``kazoo_web`` system_config: ``client.blacklist.cidrs`` =
``["127.0.0.1/32", "0.0.0.0/32"]`` and ``client.blacklist.hosts`` =
``["localhost"]``.  Nothing else is blocked by default: ``127.0.0.2``,
RFC 1918 addresses, ``localhost.`` and ``foo.localhost`` all pass.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["DEFAULT_CIDRS", "DEFAULT_HOSTS", "Blacklist", "split_client_url"]

DEFAULT_CIDRS: tuple[str, ...] = ("127.0.0.1/32", "0.0.0.0/32")
DEFAULT_HOSTS: tuple[str, ...] = ("localhost",)

_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def split_client_url(url: str) -> tuple[str, str]:
    """Return ``(scheme, host)`` the way Kazoo's URL splitter finds them.

    The scheme is the leading run of ``[A-Za-z0-9+.-]`` before the first
    ``:`` (empty when there is none).  The host is the authority after
    ``//`` up to the first ``/``, ``?`` or ``#``, without ``user:pass@``,
    without ``:port`` and without the brackets of an IPv6 literal.
    """
    scheme = ""
    rest = url
    colon = url.find(":")
    if colon >= 0 and all(ch in _SCHEME_CHARS for ch in url[:colon]):
        scheme, rest = url[:colon], url[colon + 1 :]
    if not rest.startswith("//"):
        return scheme, ""
    authority = rest[2:]
    for stop in "/?#":
        cut = authority.find(stop)
        if cut >= 0:
            authority = authority[:cut]
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        end = authority.find("]")
        return scheme, authority[1:end] if end > 0 else authority[1:]
    return scheme, authority.partition(":")[0]


def _parse_ip(host: str) -> IPAddress | None:
    """Parse a strict IP literal (dotted-quad IPv4 or IPv6); None for a name."""
    parts = host.split(".")
    if len(parts) == 4 and all(p.isascii() and p.isdigit() for p in parts):
        octets = [int(p) for p in parts]
        if all(o <= 255 for o in octets):
            return ipaddress.IPv4Address(bytes(octets))
        return None
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    return None


class Blacklist:
    """Kazoo's client blacklist: blocked CIDRs for IP hosts, blocked names otherwise."""

    __slots__ = ("cidrs", "hosts", "_networks", "_hostset")

    def __init__(
        self,
        cidrs: Iterable[str] = DEFAULT_CIDRS,
        hosts: Iterable[str] = DEFAULT_HOSTS,
    ) -> None:
        self.cidrs: tuple[str, ...] = tuple(cidrs)
        self.hosts: tuple[str, ...] = tuple(hosts)
        self._networks: tuple[tuple[str, IPNetwork], ...] = tuple(
            (cidr, ipaddress.ip_network(cidr, strict=False)) for cidr in self.cidrs
        )
        # Kazoo lowercases the URL's host but compares it with the configured
        # entries as they are, so only lowercase entries can ever match.
        self._hostset = frozenset(self.hosts)

    def __repr__(self) -> str:
        return f"Blacklist(cidrs={self.cidrs!r}, hosts={self.hosts!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Blacklist):
            return NotImplemented
        return (self.cidrs, self.hosts) == (other.cidrs, other.hosts)

    def __hash__(self) -> int:
        return hash((self.cidrs, self.hosts))

    def reason(self, url: str) -> str | None:
        """Why Kazoo would call ``url`` an "invalid client URL", or None if it passes."""
        scheme, host = split_client_url(url)
        if scheme not in ("http", "https"):
            shown = f"'{scheme}'" if scheme else "missing"
            return f"the URL scheme is {shown}; Kazoo only accepts http and https client URLs"
        lowered = host.lower()
        address = _parse_ip(lowered)
        if address is not None:
            for cidr, network in self._networks:
                if address.version == network.version and address in network:
                    return (
                        f"host {host} is inside the blacklisted network {cidr} "
                        "(kazoo_web client.blacklist.cidrs)"
                    )
            return None
        if lowered in self._hostset:
            return f"host '{host}' is a blacklisted client host (kazoo_web client.blacklist.hosts)"
        return None

    def allows(self, url: str) -> bool:
        """True when Kazoo would accept ``url`` as a client URL."""
        return self.reason(url) is None
