"""Expected values: plain values compare equal, matchers compare by rule.

A scenario file writes matchers as YAML tags (``!re``, ``!type``, ``!absent``,
``!any``) or, equivalently, as one-key mappings (``{$re: ...}``, ``{$type: ...}``,
``{$absent: true}``, ``{$any: true}``); the loader turns both into the classes
here. :func:`compare` walks an expected tree against an actual one and returns
every difference, each with its path, so a failure can say exactly what differed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Matcher",
    "Re",
    "Type",
    "Absent",
    "AnyValue",
    "Range",
    "Mismatch",
    "compare",
    "matcher_from_mapping",
    "TYPE_NAMES",
    "MATCHER_KEYS",
    "MISSING",
]


class _Missing:
    """The actual side has no such key or item."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class Matcher:
    """A rule an actual value must satisfy. ``describe`` is how reports show it."""

    def matches(self, actual: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def to_json(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.describe()


@dataclass(frozen=True, repr=False)
class Re(Matcher):
    """``!re PATTERN``: the text contains a match (``re.search``); anchor with ``^...$``."""

    pattern: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rx", re.compile(self.pattern))

    def matches(self, actual: Any) -> bool:
        if actual is MISSING or actual is None or isinstance(actual, (dict, list, bool)):
            return False
        return self._rx.search(str(actual)) is not None  # type: ignore[attr-defined]

    def describe(self) -> str:
        return f"!re {self.pattern}"

    def to_json(self) -> Any:
        return {"$re": self.pattern}


def _is_int_text(v: Any) -> bool:
    return isinstance(v, str) and re.fullmatch(r"[+-]?\d+", v.strip()) is not None


def _is_number_text(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or _is_int_text(v)


def _is_number(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) or _is_number_text(v)


#: ``!type`` names. Form-encoded parameters are always text, so ``int``,
#: ``number`` and ``bool`` also accept text that reads as one (``"1234"``, ``"true"``).
TYPE_NAMES: dict[str, Any] = {
    "str": lambda v: isinstance(v, str),
    "int": _is_int,
    "number": _is_number,
    "float": _is_number,
    "bool": lambda v: isinstance(v, bool) or v in ("true", "false"),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
    "digits": lambda v: isinstance(v, str) and re.fullmatch(r"[0-9*#A-Da-d]*", v) is not None,
}


@dataclass(frozen=True, repr=False)
class Type(Matcher):
    """``!type NAME``: the value has this type (see :data:`TYPE_NAMES`)."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in TYPE_NAMES:
            raise ValueError(f"unknown type {self.name!r}; use one of {', '.join(TYPE_NAMES)}")

    def matches(self, actual: Any) -> bool:
        return actual is not MISSING and bool(TYPE_NAMES[self.name](actual))

    def describe(self) -> str:
        return f"!type {self.name}"

    def to_json(self) -> Any:
        return {"$type": self.name}


@dataclass(frozen=True, repr=False)
class Absent(Matcher):
    """``!absent``: the key is not there at all (an empty value does not count as absent)."""

    def matches(self, actual: Any) -> bool:
        return actual is MISSING

    def describe(self) -> str:
        return "!absent"

    def to_json(self) -> Any:
        return {"$absent": True}


@dataclass(frozen=True, repr=False)
class AnyValue(Matcher):
    """``!any``: the key is there, whatever its value."""

    def matches(self, actual: Any) -> bool:
        return actual is not MISSING

    def describe(self) -> str:
        return "!any"

    def to_json(self) -> Any:
        return {"$any": True}


@dataclass(frozen=True, repr=False)
class Range(Matcher):
    """``{min: A, max: B}`` (either bound optional): a number within the bounds, inclusive."""

    min: float | None = None
    max: float | None = None

    def matches(self, actual: Any) -> bool:
        if not _is_number(actual):
            return False
        v = float(actual)
        return (self.min is None or v >= self.min) and (self.max is None or v <= self.max)

    def describe(self) -> str:
        lo = "" if self.min is None else f"{_num(self.min)} <= "
        hi = "" if self.max is None else f" <= {_num(self.max)}"
        return f"{lo}value{hi}"

    def to_json(self) -> Any:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


MATCHER_KEYS = ("$re", "$type", "$absent", "$any")


def matcher_from_mapping(value: Mapping[str, Any]) -> Matcher | None:
    """``{$re: ...}`` and friends to a matcher; any other mapping gives None.

    Raises ValueError for a malformed matcher mapping (the loader reports it
    with the file and line).
    """
    if len(value) != 1:
        if any(isinstance(k, str) and k in MATCHER_KEYS for k in value):
            raise ValueError(f"a matcher mapping has exactly one key, got {sorted(map(str, value))}")
        return None
    (key, arg), = value.items()
    if key == "$re":
        if not isinstance(arg, str):
            raise ValueError(f"$re wants a pattern string, got {type(arg).__name__}")
        try:
            return Re(arg)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {arg!r}: {exc}") from None
    if key == "$type":
        if not isinstance(arg, str):
            raise ValueError(f"$type wants a type name, got {type(arg).__name__}")
        return Type(arg)
    if key == "$absent":
        if arg is not True:
            raise ValueError("write $absent: true (or the !absent tag)")
        return Absent()
    if key == "$any":
        if arg is not True:
            raise ValueError("write $any: true (or the !any tag)")
        return AnyValue()
    return None


# -- comparison ------------------------------------------------------------------


@dataclass
class Mismatch:
    """One difference: where (``a.b[2]``), what was expected, what was there."""

    path: str
    expected: Any
    actual: Any
    why: str = ""

    def describe(self) -> str:
        where = self.path or "(value)"
        exp = show(self.expected)
        act = "missing" if self.actual is MISSING else show(self.actual)
        if isinstance(self.expected, Absent):
            return f"{where}: expected absent, got {act}"
        extra = f" ({self.why})" if self.why else ""
        return f"{where}: expected {exp}, got {act}{extra}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "expected": to_jsonable(self.expected),
            "actual": None if self.actual is MISSING else to_jsonable(self.actual),
            "missing": self.actual is MISSING,
            "why": self.why,
        }


def show(value: Any, limit: int = 200) -> str:
    """A value as a report shows it: JSON-ish, matchers by their tag, long text cut."""
    import json

    if isinstance(value, Matcher):
        return value.describe()
    if value is MISSING:
        return "missing"
    try:
        text = json.dumps(to_jsonable(value), ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Matcher):
        return value.to_json()
    if value is MISSING:
        return None
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def scalar_equal(expected: Any, actual: Any) -> bool:
    """Equality that forgives form encoding: ``1234`` matches ``"1234"``, ``true`` ``"true"``."""
    if expected == actual and type(expected) is type(actual):
        return True
    if isinstance(actual, str) and not isinstance(expected, (str, dict, list)) and expected is not None:
        if isinstance(expected, bool):
            return actual == ("true" if expected else "false")
        if isinstance(expected, float) and expected.is_integer():
            return actual in (str(expected), str(int(expected)))
        return actual == str(expected)
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return not isinstance(expected, bool) and not isinstance(actual, bool) and expected == actual
    return bool(expected == actual)


def compare(expected: Any, actual: Any, *, strict: bool = False, path: str = "") -> list[Mismatch]:
    """Every difference between ``expected`` and ``actual``.

    Partial by default: a mapping needs only the keys it names (``!absent``
    requires a key to be missing) and a list's expected items must appear in
    order, others may sit between them. ``strict`` also fails on extra keys and
    needs lists of the same length, item by item.
    """
    if isinstance(expected, Matcher):
        if expected.matches(actual):
            return []
        return [Mismatch(path, expected, actual)]
    if actual is MISSING:
        return [Mismatch(path, expected, actual)]
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [Mismatch(path, expected, actual, f"expected a mapping, got {_kind(actual)}")]
        out: list[Mismatch] = []
        for key, exp in expected.items():
            act = actual.get(key, MISSING)
            out.extend(compare(exp, act, strict=strict, path=_join(path, key)))
        if strict:
            for key in actual:
                if key not in expected:
                    out.append(Mismatch(_join(path, key), MISSING, actual[key], "unexpected key (strict)"))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [Mismatch(path, expected, actual, f"expected a list, got {_kind(actual)}")]
        if strict:
            out = []
            for i, exp in enumerate(expected):
                act = actual[i] if i < len(actual) else MISSING
                out.extend(compare(exp, act, strict=True, path=_join(path, i)))
            for i in range(len(expected), len(actual)):
                out.append(Mismatch(_join(path, i), MISSING, actual[i], "unexpected item (strict)"))
            return out
        return _subsequence(expected, actual, path)
    if scalar_equal(expected, actual):
        return []
    return [Mismatch(path, expected, actual)]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "text", bool: "a boolean"}.get(type(value), type(value).__name__)


def _subsequence(expected: list[Any], actual: list[Any], path: str) -> list[Mismatch]:
    """Each expected item matches a later actual item than the previous one did."""
    j = 0
    for i, exp in enumerate(expected):
        while j < len(actual) and compare(exp, actual[j], path=_join(path, j)):
            j += 1
        if j >= len(actual):
            # Report against the closest candidate so the message is specific.
            best: list[Mismatch] | None = None
            start = 0 if i == 0 else min(len(actual) - 1, i)
            for k in range(max(0, start), len(actual)):
                cand = compare(exp, actual[k], path=_join(path, k))
                if best is None or len(cand) < len(best):
                    best = cand
            if best:
                best[0].why = best[0].why or (
                    f"expected item {i} is not in the list after the earlier matches" if i else
                    "no item in the list matches"
                )
                return best
            return [Mismatch(_join(path, i), exp, MISSING, "the list is too short")]
        j += 1
    return []
