"""``${name}`` substitution in string values: explicit, typed, and nothing else.

* ``${pin}`` is replaced by the variable's value; ``${customer.name}`` reads a
  key of a mapping variable; ``${env.HOME}`` reads the environment.
* A string that is exactly one reference keeps the value's type (a number stays
  a number, a mapping a mapping); inside longer text the value is written as text.
* ``$${`` writes a literal ``${``. Braces on their own mean nothing, so JSON
  and regular expressions need no escaping.
* Inside ``!re`` patterns substituted values match literally (they are escaped).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from typing import Any

from .matchers import Matcher, Re

__all__ = ["UnknownVariable", "references", "substitute", "NAME_RE"]

_REF = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")


class UnknownVariable(KeyError):
    """A ``${...}`` names no variable; ``str()`` is the one-line message."""

    def __init__(self, ref: str, message: str) -> None:
        super().__init__(ref)
        self.ref = ref
        self.message = message

    def __str__(self) -> str:
        return self.message


def references(text: str) -> list[str]:
    """The names ``text`` refers to, in order (``env.X`` included)."""
    return [m.group(1) for m in _REF.finditer(text) if m.group(1) is not None]


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean ${{{close[0]}}}?)" if close else ""


def lookup(ref: str, scope: Mapping[str, Any]) -> Any:
    ref = ref.strip()
    if not NAME_RE.fullmatch(ref):
        raise UnknownVariable(ref, f"${{{ref}}} is not a variable reference (names are letters, digits, _ and -, "
                                   "dots for keys: ${name}, ${name.key}, ${env.NAME})")
    head, *rest = ref.split(".")
    if head == "env":
        if not rest:
            raise UnknownVariable(ref, "${env} needs a name: ${env.NAME}")
        name = ".".join(rest)
        if name not in os.environ:
            raise UnknownVariable(ref, f"${{{ref}}}: the environment variable {name} is not set")
        return os.environ[name]
    if head not in scope:
        known = sorted(scope)
        listing = ", ".join(known) if known else "none are defined"
        raise UnknownVariable(ref, f"unknown variable ${{{head}}}{_suggest(head, known)}; known: {listing}")
    value = scope[head]
    walked = head
    for part in rest:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise UnknownVariable(ref, f"${{{ref}}}: {walked} has no key {part!r}")
        walked += "." + part
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def substitute_text(text: str, scope: Mapping[str, Any], *, regex: bool = False) -> Any:
    if "$" not in text:
        return text
    whole = _REF.fullmatch(text)
    if whole and whole.group(1) is not None and not regex:
        return lookup(whole.group(1), scope)

    def repl(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return "${"
        value = _text(lookup(m.group(1), scope))
        return re.escape(value) if regex else value

    return _REF.sub(repl, text)


def substitute(value: Any, scope: Mapping[str, Any]) -> Any:
    """``value`` with every ``${...}`` in its strings resolved against ``scope``."""
    if isinstance(value, str):
        return substitute_text(value, scope)
    if isinstance(value, Re):
        if "$" not in value.pattern:
            return value
        return Re(str(substitute_text(value.pattern, scope, regex=True)))
    if isinstance(value, Matcher):
        return value
    if isinstance(value, dict):
        return {k: substitute(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, scope) for v in value]
    return value


def refs_in(value: Any) -> list[str]:
    """Every reference in a value tree (for checking names at load time)."""
    out: list[str] = []
    if isinstance(value, str):
        out.extend(references(value))
    elif isinstance(value, Re):
        out.extend(references(value.pattern))
    elif isinstance(value, dict):
        for v in value.values():
            out.extend(refs_in(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(refs_in(v))
    return out
