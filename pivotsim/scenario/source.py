"""YAML in, plain values out, with the file, line and column of every key and value.

PyYAML composes the node graph (with libyaml when available); this module
builds the values itself so that it can:

* remember where each value and each mapping key came from (for messages such as
  ``bank.pivot.yaml:12:7: steps[2]: unknown key 'pres'``);
* resolve plain scalars like YAML 1.2 (``yes``/``no``/``on``/``off`` stay text,
  ``1:30`` is not a number) and keep telephony values as text: a number written
  with a leading ``0`` or ``+`` (``0042``, ``+15555550100``) is a string;
* turn the matcher tags ``!re``, ``!type``, ``!absent`` and ``!any`` into their
  mapping form (``{$re: ...}``) so one JSON Schema describes both spellings;
* reject duplicate keys instead of silently keeping the last one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["Loc", "Problem", "SourceError", "Document", "Positions", "read_documents", "TAGS"]

try:  # libyaml's composer is several times faster and keeps the same marks
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

#: Matcher tags and the mapping key each becomes.
TAGS = {"!re": "$re", "!type": "$type", "!absent": "$absent", "!any": "$any"}

_STD = "tag:yaml.org,2002:"
_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_MAX_DEPTH = 200


@dataclass(frozen=True)
class Loc:
    """A place in a file; lines and columns count from 1."""

    file: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class Problem:
    """One thing wrong with a scenario file, where it is, and what to do about it."""

    loc: Loc | None
    message: str
    #: the file a problem without a place is about (for per-file reports)
    file: str | None = None

    @property
    def where(self) -> str | None:
        """The file this problem is in or about, if known."""
        return self.loc.file if self.loc else self.file

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}" if self.loc else self.message


class SourceError(Exception):
    """Scenario files that cannot be used; ``problems`` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


Path_ = tuple[Any, ...]


@dataclass
class Positions:
    """Where each value (by path) and each mapping key starts."""

    file: str
    values: dict[Path_, Loc] = field(default_factory=dict)
    keys: dict[Path_, Loc] = field(default_factory=dict)

    def value(self, path: Path_) -> Loc:
        """The value at ``path``, or the nearest enclosing one that is known."""
        p = tuple(path)
        while p:
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), Loc(self.file, 1, 1))

    def key(self, path: Path_) -> Loc:
        """The key that names ``path`` (falls back to the value's place)."""
        p = tuple(path)
        if p in self.keys:
            return self.keys[p]
        return self.value(p)

    def rebased(self, prefix: Path_, new_prefix: Path_) -> dict[str, dict[Path_, Loc]]:
        """The entries under ``prefix``, re-rooted under ``new_prefix``."""
        n = len(prefix)
        return {
            "values": {new_prefix + p[n:]: loc for p, loc in self.values.items() if p[:n] == prefix},
            "keys": {new_prefix + p[n:]: loc for p, loc in self.keys.items() if p[:n] == prefix},
        }


@dataclass
class Document:
    """One YAML document of a file: its value, positions, and where it starts."""

    value: Any
    positions: Positions
    index: int
    loc: Loc


def _loc(file: str, mark: Any) -> Loc:
    return Loc(file, mark.line + 1, mark.column + 1)


def resolve_plain(text: str) -> Any:
    """A plain (unquoted) scalar, the YAML 1.2 core way, keeping ``0..``/``+..`` numbers as text."""
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text) and any(c.isdigit() for c in text):
        if re.match(r"-?0[0-9]", text):
            return text  # a leading zero is never a number here: 0123.5 stays text
        return float(text)
    if text in (".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"):
        return float(text.replace(".", "").replace("Inf", "inf").replace("INF", "inf"))
    return text


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.pos = Positions(file)
        self.problems: list[Problem] = []

    def problem(self, mark: Any, message: str) -> None:
        self.problems.append(Problem(_loc(self.file, mark), message))

    def build(self, node: Any, path: Path_, depth: int = 0) -> Any:
        # Node kinds are told apart by ``id``, not isinstance: libyaml's extension keeps the
        # classes of the first ``yaml`` import, and a test runner may re-import ``yaml``.
        if depth > _MAX_DEPTH:
            self.problem(node.start_mark, "nesting too deep (a recursive alias?)")
            return None
        self.pos.values[path] = _loc(self.file, node.start_mark)
        tag = node.tag or ""
        if node.id == "scalar":
            if tag in TAGS:
                return self._matcher(node, tag)
            if tag.startswith("!") and not tag.startswith("!!"):
                self.problem(node.start_mark, f"unknown tag {tag}; the tags are {', '.join(TAGS)}")
                return node.value
            if not node.style and tag != _STD + "str":
                return resolve_plain(node.value)
            return node.value
        if tag in TAGS:
            self.problem(node.start_mark, f"{tag} applies to a single value, not to a "
                                          f"{'list' if node.id == 'sequence' else 'mapping'}")
        elif tag.startswith("!") and not tag.startswith("!!"):
            self.problem(node.start_mark, f"unknown tag {tag}; the tags are {', '.join(TAGS)}")
        if node.id == "sequence":
            return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
        if node.id == "mapping":
            return self._mapping(node, path, depth)
        return None  # pragma: no cover

    def _matcher(self, node: Any, tag: str) -> Any:
        key = TAGS[tag]
        text = node.value
        if key in ("$absent", "$any"):
            if text.strip():
                self.problem(node.start_mark, f"{tag} takes no value (write just {tag})")
            return {key: True}
        if not text.strip():
            self.problem(node.start_mark, f"{tag} needs a value, e.g. {tag} " + ("^\\+1" if key == "$re" else "int"))
        return {key: text if key == "$re" else text.strip()}

    def _mapping(self, node: Any, path: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, Any] = {}
        merges: list[dict[str, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _STD + "merge":
                merged = self.build(value_node, path, depth + 1)
                for m in merged if isinstance(merged, list) else [merged]:
                    if isinstance(m, dict):
                        merges.append(m)
                    else:
                        self.problem(value_node.start_mark, "a << merge takes a mapping or a list of mappings")
                continue
            if key_node.id != "scalar":
                self.problem(key_node.start_mark, "a mapping key must be a plain value, not a list or mapping")
                continue
            key = key_node.value
            if key in seen:
                first = _loc(self.file, seen[key].start_mark)
                self.problem(key_node.start_mark, f"duplicate key {key!r} (first at line {first.line})")
                continue
            seen[key] = key_node
            self.pos.keys[path + (key,)] = _loc(self.file, key_node.start_mark)
            out[key] = self.build(value_node, path + (key,), depth + 1)
        if merges:
            base: dict[str, Any] = {}
            for m in merges:
                for k, v in m.items():
                    base.setdefault(k, v)
            base.update(out)
            out = base
        return out


def read_documents(text: str, file: str, problems: list[Problem] | None = None) -> list[Document]:
    """Every document in ``text``. Raises :class:`SourceError` with all problems found.

    Given a ``problems`` list, problems that leave the documents usable (a duplicate
    key, an unknown tag) go there instead, so the caller can report the rest too;
    a YAML syntax error still raises, since nothing after it can be read.
    """
    docs: list[Document] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "invalid YAML"
        ctx = f" ({exc.context}{' at line %d' % (exc.context_mark.line + 1) if exc.context_mark else ''})" \
            if exc.context else ""
        loc = _loc(file, mark) if mark is not None else Loc(file, 1, 1)
        line = text.splitlines()[loc.line - 1] if 0 < loc.line <= len(text.splitlines()) else ""
        hint = ""
        at = line[max(0, loc.col - 2): loc.col + 1]
        if "[" in at and re.search(r"[{,]\s*[\w-]+\[[^\]]*\]\s*:", line):
            hint = "; inside { }, quote keys with brackets (\"Digits[pin]\": ...) or nest them (Digits: {pin: ...})"
        elif re.search(r"!(absent|any)[}\],]", line):
            hint = "; inside { } or [ ], put a space after !absent or !any before } , or ]"
        raise SourceError([Problem(loc, f"YAML syntax error: {what}{ctx}{hint}")]) from None
    except yaml.YAMLError as exc:
        raise SourceError([Problem(Loc(file, 1, 1), f"YAML error: {exc}")]) from None
    collect = problems is not None
    found: list[Problem] = problems if problems is not None else []
    for i, node in enumerate(nodes):
        if node is None:
            continue
        b = _Builder(file)
        value = b.build(node, ())
        found.extend(b.problems)
        docs.append(Document(value, b.pos, i, _loc(file, node.start_mark)))
    if found and not collect:
        raise SourceError(found)
    return docs
