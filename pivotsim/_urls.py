"""Follow-up URLs and methods exactly as Kazoo computes them for TwiML.

``resolve_uri`` is ``kz_http_util:resolve_uri/2`` (contract §4.6), which is not
RFC 3986: a leading ``/`` is not root-relative, the current URL's last segment
is replaced only when it contains a dot, and ``..`` pops a segment whether it is
a file or a directory. ``http_method`` is ``kzt_util:http_method/1``.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

__all__ = ["resolve_uri", "http_method", "MethodError", "ResolveError", "url_habits", "texts_trim"]

# Erlang atoms that certainly exist in a running Kazoo: kz_term:to_atom/1 turns these
# method names into atoms, which kzt_util:http_method/1 has no case clause for.
_EXISTING_ATOMS = frozenset({"put", "delete", "head", "options", "patch", "trace", "connect"})


class MethodError(ValueError):
    """``method="PUT"`` and friends: a try_clause crash in kzt_util:http_method/1."""


class ResolveError(ValueError):
    """``..`` popped every segment, then a name followed: resolve_uri_fold has no clause."""


def http_method(value: str | None) -> tuple[str, bool]:
    """``(method, recognised)``: ``get``/``post``; absent or unknown means ``post``.

    Raises :class:`MethodError` for names Erlang already knows as atoms (PUT, DELETE...).
    ``recognised`` is False when Kazoo silently fell back to POST.
    """
    if value is None:
        return "post", True
    low = value.lower()
    if low in ("get", "post"):
        return low, True
    if low == "undefined":
        return "post", True
    if low in _EXISTING_ATOMS:
        raise MethodError(
            f"method={value!r}: kzt_util:http_method/1 converts it to the atom '{low}' and has no "
            "clause for it (try_clause), so the verb crashes"
        )
    return "post", False


def texts_trim(raw: str) -> str:
    """kz_xml:texts_to_binary: strip newlines, spaces, newlines, spaces, in that order.

    Tabs and other whitespace are kept, and only two levels of newline/space
    alternation are removed.
    """
    out = raw
    for ch in ("\n", " ", "\n", " "):
        out = out.strip(ch)
    return out


def resolve_uri(current: str, action: str | None) -> str:
    """``kz_http_util:resolve_uri(CurrentVoiceUri, Action)``, byte for byte."""
    if action is None:
        return current
    if action.startswith("http"):
        return action
    rev = list(reversed(current.split("/")))
    for seg in action.split("/"):
        if seg == "..":
            rev = rev[1:]
        elif seg in (".", ""):
            continue
        elif not rev:
            raise ResolveError(
                f"resolving {action!r} against {current!r}: '..' removed every segment of the URL, "
                "and kz_http_util:resolve_uri_fold has no clause for what follows (crash)"
            )
        elif rev[0] == "":
            rev[0] = seg
        elif "." in rev[0]:
            rev[0] = seg  # the last segment looks like a file: replace it
        else:
            rev.insert(0, seg)  # no dot: it counts as a directory, append
    return "/".join(reversed(rev))


def url_habits(current: str, action: str, resolved: str) -> list[str]:
    """Why a Twilio developer would not expect ``resolved``: one sentence per surprise."""
    notes: list[str] = []
    if action.startswith("http"):
        if not (action.startswith("http://") or action.startswith("https://")):
            notes.append(
                f"{action!r} starts with 'http', so Kazoo takes it as an absolute URL although it is "
                "a relative path"
            )
        return notes
    browser = urljoin(current, action)
    if browser == resolved:
        return notes
    if action != action.strip():
        notes.append(
            f"the URL text {action!r} has whitespace Kazoo does not trim (it only trims spaces and "
            "newlines, not tabs): it becomes part of the path"
        )
    parts = urlsplit(current)
    last = current.rsplit("/", 1)[-1]
    if action.startswith("/"):
        why = (
            f" (its last segment {last!r} has no dot, so it even counts as a directory)"
            if last and "." not in last
            else ""
        )
        notes.append(
            f"{action!r} is root-relative for Twilio and browsers ({browser}), but Kazoo's "
            f"resolve_uri keeps the current URL's directory{why}: {resolved}"
        )
    if parts.query and "." not in last and not action.startswith("/"):
        notes.append(
            f"the current URL {current!r} has a query string: Kazoo treats it as part of the last "
            f"path segment and builds {resolved}"
        )
    if not parts.path and "." in (parts.hostname or "") and "." in last:
        notes.append(
            f"the current URL {current!r} has no path, so Kazoo takes the host name (it has a dot) "
            f"for a file name and replaces it: {resolved}"
        )
    elif (
        "/" in current.split("://", 1)[-1]
        and "." not in last
        and last
        and not parts.query
        and not action.startswith("/")
    ):
        notes.append(
            f"the current URL's last segment {last!r} has no dot, so Kazoo treats it as a directory "
            f"(extensionless routes): {action!r} resolves to {resolved}, not {browser}"
        )
    if ".." in action.split("/") and browser != resolved and not notes:
        notes.append(
            f"Kazoo resolves '..' segment by segment from the file name: {resolved}, not {browser}"
        )
    return notes
