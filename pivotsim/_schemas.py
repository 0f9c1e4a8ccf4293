"""Validate callflow nodes exactly the way Kazoo validates a Pivot reply.

Kazoo checks a Kazoo-JSON Pivot reply (and every callflow saved through
Crossbar) with the Erlang library jesse: JSON Schema draft-04, every error
collected (``allowed_errors: infinity``), schema defaults written into the
document (``use_defaults`` + ``apply_defaults_to_empty_objects``) and a
custom ``kazoo-validation`` keyword (module existence, client-URL blacklist).
The defaulted document is what Kazoo then executes, so the defaults matter as
much as the errors.

This module reimplements that engine instead of using a generic validator,
because jesse's behaviour differs from the draft-04 text in ways that change
what a caller hears:

* a property default is injected only when the property's own schema has
  both ``default`` and ``type`` and the default has that type; the injected
  value is then validated like any other (so nested defaults are filled in,
  and an invalid default is reported as an error);
* ``$ref`` does not hide its sibling keywords;
* keywords run in the order of Kazoo's key-sorted schema files, so
  ``required`` sees the defaults injected by ``properties``;
* ``oneOf``/``anyOf`` keep the defaults of the branch that matched only;
* integers and booleans are distinct, ``1.0`` is not an integer, enum and
  uniqueItems compare values with their JSON types.

Validators are compiled to closures once per module and cached, because
replies are validated on the hot path of every simulated call.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._blacklist import Blacklist, _parse_ip

__all__ = [
    "FlowValidator",
    "NodeValidation",
    "SchemaIssue",
    "crossbar_errors",
    "default_schema_dir",
]

Path_ = tuple[str, ...]
_Raw = tuple[Path_, str, Any, Any]  # (path, keyword, value, target)
_Check = Callable[[Any, Path_, "_Run"], None]

_MODULE_NAME_MAX = 64
_CHILD_KEY = re.compile(".+")  # Kazoo: children "patternProperties": {".+": node}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_UNUSED_SUBSCHEMAS = ("action",)  # callflows.action is the node schema, not a module
_KAZOO_URL_KEYS = frozenset(
    {
        # kz_json_schema_extensions: "<schema id>.<field>" that get the client-URL check
        "callflows.pivot.voice_url",
        "callflows.record_call.url",
        "callflows.record_caller.url",
        "callflows.webhook.uri",
    }
)

# Python types that satisfy each draft-04 type name (jesse: integer is not a
# float, booleans are not numbers).
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SchemaIssue:
    """One problem Kazoo's schema validation would report (or a warning we add)."""

    path: tuple[str, ...]
    keyword: str
    message: str
    value: Any
    target: Any = field(default=None, compare=False, repr=False)

    @property
    def dotted(self) -> str:
        """The path joined with dots, as Kazoo names the failing field."""
        return ".".join(self.path)


@dataclass
class NodeValidation:
    """Outcome of validating one node: the defaulted copy plus errors and warnings."""

    node: dict[str, Any] | None
    errors: list[SchemaIssue] = field(default_factory=list)
    warnings: list[SchemaIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when Kazoo would accept the node."""
        return not self.errors


# --------------------------------------------------------------------------- helpers


class _Run:
    """Issues collected during one validation (raw tuples; messages are built later)."""

    __slots__ = ("errors", "warnings")

    def __init__(self) -> None:
        self.errors: list[_Raw] = []
        self.warnings: list[_Raw] = []


def _clone(value: Any) -> Any:
    """Deep-copy JSON data (much cheaper than copy.deepcopy)."""
    kind = type(value)
    if kind is dict:
        return {k: _clone(v) if type(v) in (dict, list) else v for k, v in value.items()}
    if kind is list:
        return [_clone(v) if type(v) in (dict, list) else v for v in value]
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _adopt(target: Any, trial: Any) -> None:
    """Copy a branch's defaulted value back into the original, in place."""
    if isinstance(target, dict) and isinstance(trial, dict):
        target.clear()
        target.update(trial)
    elif isinstance(target, list) and isinstance(trial, list):
        target[:] = trial


def _has_type(value: Any, name: str) -> bool:
    """jesse's is_type_valid: strict JSON types (bool is not a number)."""
    allowed = _TYPES.get(name)
    if allowed is None:
        return False
    if type(value) in allowed:
        return True
    if isinstance(value, bool):
        return name == "boolean"
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name in ("integer", "number") and isinstance(value, int):
        return True
    return name == "number" and isinstance(value, float)


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) or (
        isinstance(value, (int, float)) and not isinstance(value, bool)
    )


def _json_equal(a: Any, b: Any) -> bool:
    """Equality with JSON types kept apart (1 != 1.0 != true), like Erlang's =:=."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _canonical(value: Any) -> str:
    """A text key that differs whenever two JSON values differ (types included)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def _show(value: Any, limit: int = 80) -> str:
    """Short JSON rendering of a value for messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _format_ok(value: str, fmt: str) -> bool:
    """jesse's format checks; unknown formats (uri, hostname) always pass."""
    if fmt == "email":
        return re.search(r"^[^@]+@[^@]+$", value) is not None
    if fmt == "ipv4":
        address = _parse_ip(value)
        return address is not None and address.version == 4
    if fmt == "ipv6":
        address = _parse_ip(value) if ":" in value else None
        return address is not None and address.version == 6
    if fmt == "date-time":
        if not _RFC3339.match(value):
            return False
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return False
        return True
    return True


@lru_cache(maxsize=512)
def _read_json(path: str) -> Any:
    """Load a schema file once per process (they never change while we run)."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _pointer(document: Any, fragment: str) -> Any:
    """Resolve a JSON pointer fragment ("/definitions/x") inside a document."""
    node = document
    for raw in fragment.split("/"):
        if raw == "":
            continue
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(fragment)
    return node


# --------------------------------------------------------------------------- compiler

_Loader = Callable[[str], "tuple[Mapping[str, Any], str] | None"]
_UrlRule = Callable[[str, str], bool]


class _Property:
    """A compiled entry of "properties", with its default (resolved lazily)."""

    __slots__ = ("name", "check", "has_default", "default", "clean")

    def __init__(self, name: str, check: _Check, has_default: bool, default: Any) -> None:
        self.name = name
        self.check = check
        self.has_default = has_default
        self.default = default
        # None: not yet known; True: the default validates cleanly and `default`
        # already holds its final (nested-defaulted) form; False: validate at runtime.
        self.clean: bool | None = None


class _Compiler:
    """Turn draft-04 schema documents into validation closures (jesse semantics)."""

    def __init__(
        self,
        loader: _Loader,
        url_rule: _UrlRule,
        blacklist: Blacklist,
        strict_blacklist: bool,
    ) -> None:
        self._loader = loader
        self._url_rule = url_rule
        self._blacklist = blacklist
        self._strict = strict_blacklist
        self._memo: dict[int, _Check] = {}
        self._pinned: list[Any] = []  # keep compiled schema objects alive (ids stay unique)

    def compile(self, schema: Any, root: Mapping[str, Any], root_id: str) -> _Check:
        """Compile one schema node; recursion through $ref is handled by a trampoline."""
        key = id(schema)
        found = self._memo.get(key)
        if found is not None:
            return found
        cell: list[_Check] = []

        def trampoline(value: Any, path: Path_, run: _Run) -> None:
            cell[0](value, path, run)

        self._memo[key] = trampoline
        self._pinned.append(schema)
        built = self._build(schema, root, root_id)
        cell.append(built)
        self._memo[key] = built
        return built

    # -- building -----------------------------------------------------------

    def _build(self, schema: Any, root: Mapping[str, Any], root_id: str) -> _Check:
        if not isinstance(schema, dict):
            raise ValueError(f"{root_id}: a schema must be an object, got {_show(schema)}")
        checks: list[tuple[str, _Check]] = []
        add = checks.append
        if "$ref" in schema:
            add(("$ref", self._ref(schema["$ref"], root, root_id)))
        if "additionalProperties" in schema:
            add(("additionalProperties", self._additional(schema, root, root_id)))
        for word in ("allOf", "anyOf", "oneOf"):
            if word in schema:
                subs = [self.compile(sub, root, root_id) for sub in schema[word]]
                add((word, self._combinator(word, subs)))
        if "not" in schema:
            add(("not", self._not(self.compile(schema["not"], root, root_id))))
        if "dependencies" in schema:
            add(("dependencies", self._dependencies(schema["dependencies"], root, root_id)))
        if "enum" in schema:
            add(("enum", self._enum(schema["enum"])))
        if "format" in schema and schema["format"] in ("email", "ipv4", "ipv6", "date-time"):
            add(("format", self._format(schema["format"])))
        if "items" in schema:
            add(("items", self._items(schema, root, root_id)))
        for word in ("maxItems", "minItems"):
            if word in schema:
                add((word, self._size(word, schema[word], list, len)))
        for word in ("maxProperties", "minProperties"):
            if word in schema:
                add((word, self._size(word, schema[word], dict, len)))
        for word in ("maxLength", "minLength"):
            if word in schema:
                add((word, self._size(word, schema[word], str, len)))
        if "maximum" in schema:
            add(("maximum", self._bound(schema, "maximum")))
        if "minimum" in schema:
            add(("minimum", self._bound(schema, "minimum")))
        if "multipleOf" in schema:
            add(("multipleOf", self._multiple_of(schema["multipleOf"])))
        if "pattern" in schema:
            add(("pattern", self._pattern(schema["pattern"])))
        if "patternProperties" in schema:
            add(("patternProperties", self._pattern_properties(schema, root, root_id)))
        if "properties" in schema:
            add(("properties", self._properties(schema["properties"], root, root_id)))
        if "required" in schema:
            add(("required", self._required(schema["required"])))
        if "type" in schema:
            add(("type", self._type(schema["type"])))
        if "uniqueItems" in schema and schema["uniqueItems"] is True:
            add(("uniqueItems", self._unique()))
        if schema.get("kazoo-validation") is True:
            add(("kazoo-validation", self._client_url(root_id)))
        # Kazoo's schema files are key-sorted and jesse runs keywords in file
        # order; sorting keeps error order (and Crossbar's last-wins) faithful.
        checks.sort(key=lambda pair: (pair[0] == "kazoo-validation", pair[0]))
        fns = [fn for _, fn in checks]
        if not fns:
            return _accept
        if len(fns) == 1:
            return fns[0]
        if len(fns) == 2:
            first, second = fns

            def pair(value: Any, path: Path_, run: _Run) -> None:
                first(value, path, run)
                second(value, path, run)

            return pair
        seq = tuple(fns)

        def sequence(value: Any, path: Path_, run: _Run) -> None:
            for fn in seq:
                fn(value, path, run)

        return sequence

    def _ref(self, ref: Any, root: Mapping[str, Any], root_id: str) -> _Check:
        if not isinstance(ref, str):
            raise ValueError(f"{root_id}: $ref must be a string")
        name, _, fragment = ref.partition("#")
        if name:
            loaded = self._loader(name)
            if loaded is None:
                raise ValueError(f"{root_id}: cannot resolve $ref {ref!r}")
            document, document_id = loaded
        else:
            document, document_id = root, root_id
        try:
            target = _pointer(document, fragment)
        except KeyError:
            raise ValueError(f"{root_id}: cannot resolve $ref {ref!r}") from None
        return self.compile(target, document, document_id)

    def _type(self, spec: Any) -> _Check:
        names = [spec] if isinstance(spec, str) else list(spec)
        for name in names:
            if name not in _TYPES:
                raise ValueError(f"unknown JSON Schema type {name!r}")
        fast = frozenset(t for name in names for t in _TYPES[name])
        if "boolean" not in names:
            fast = fast - {bool}

        def check(value: Any, path: Path_, run: _Run) -> None:
            if type(value) in fast:
                return
            if any(_has_type(value, name) for name in names):
                return
            run.errors.append((path, "type", value, spec))

        return check

    def _enum(self, options: list[Any]) -> _Check:
        keys: set[tuple[type, Any]] = set()
        complex_options: list[Any] = []
        for option in options:
            if isinstance(option, (dict, list)):
                complex_options.append(option)
            else:
                keys.add((type(option), option))

        def check(value: Any, path: Path_, run: _Run) -> None:
            try:
                if (type(value), value) in keys:
                    return
            except TypeError:
                pass
            if any(_json_equal(value, option) for option in complex_options):
                return
            run.errors.append((path, "enum", value, options))

        return check

    def _format(self, fmt: str) -> _Check:
        def check(value: Any, path: Path_, run: _Run) -> None:
            if type(value) is str and not _format_ok(value, fmt):
                run.errors.append((path, "format", value, fmt))

        return check

    def _size(self, word: str, limit: Any, kind: type, measure: Callable[[Any], int]) -> _Check:
        is_max = word.startswith("max")

        def check(value: Any, path: Path_, run: _Run) -> None:
            if isinstance(value, kind) and not isinstance(value, bool):
                size = measure(value)
                if (size > limit) if is_max else (size < limit):
                    run.errors.append((path, word, value, limit))

        return check

    def _bound(self, schema: Mapping[str, Any], word: str) -> _Check:
        limit = schema[word]
        exclusive = (
            schema.get("exclusiveMaximum" if word == "maximum" else "exclusiveMinimum") is True
        )
        is_max = word == "maximum"

        def check(value: Any, path: Path_, run: _Run) -> None:
            if not _is_number(value):
                return
            if is_max:
                bad = value >= limit if exclusive else value > limit
            else:
                bad = value <= limit if exclusive else value < limit
            if bad:
                run.errors.append((path, word, value, limit))

        return check

    def _multiple_of(self, factor: Any) -> _Check:
        def check(value: Any, path: Path_, run: _Run) -> None:
            if _is_number(value):
                quotient = value / factor
                if quotient != int(quotient):
                    run.errors.append((path, "multipleOf", value, factor))

        return check

    def _pattern(self, pattern: str) -> _Check:
        compiled = re.compile(pattern)

        def check(value: Any, path: Path_, run: _Run) -> None:
            if type(value) is str and compiled.search(value) is None:
                run.errors.append((path, "pattern", value, pattern))

        return check

    def _items(self, schema: Mapping[str, Any], root: Mapping[str, Any], root_id: str) -> _Check:
        items = schema["items"]
        if isinstance(items, dict):
            sub = self.compile(items, root, root_id)

            def check(value: Any, path: Path_, run: _Run) -> None:
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        sub(item, (*path, str(index)), run)

            return check
        subs = [self.compile(item, root, root_id) for item in items]
        extra = schema.get("additionalItems", True)
        extra_check = self.compile(extra, root, root_id) if isinstance(extra, dict) else None

        def check_tuple(value: Any, path: Path_, run: _Run) -> None:
            if not isinstance(value, list):
                return
            if len(value) > len(subs) and extra is False:
                run.errors.append((path, "additionalItems", value, len(subs)))
                return
            for index, item in enumerate(value):
                fn = subs[index] if index < len(subs) else extra_check
                if fn is not None:
                    fn(item, (*path, str(index)), run)

        return check_tuple

    def _unique(self) -> _Check:
        def check(value: Any, path: Path_, run: _Run) -> None:
            if isinstance(value, list) and len(value) > 1:
                seen = {_canonical(item) for item in value}
                if len(seen) != len(value):
                    run.errors.append((path, "uniqueItems", value, True))

        return check

    def _properties(
        self, properties: Mapping[str, Any], root: Mapping[str, Any], root_id: str
    ) -> _Check:
        entries: list[_Property] = []
        for name in sorted(properties):
            sub_schema = properties[name]
            sub = self.compile(sub_schema, root, root_id)
            has_default = False
            default: Any = None
            if isinstance(sub_schema, dict) and "default" in sub_schema and "type" in sub_schema:
                default = sub_schema["default"]
                types = sub_schema["type"]
                names = [types] if isinstance(types, str) else list(types)
                has_default = any(_has_type(default, n) for n in names)
            entries.append(_Property(name, sub, has_default, default))
        table = tuple(entries)

        def check(value: Any, path: Path_, run: _Run) -> None:
            if not isinstance(value, dict):
                return
            for entry in table:
                name = entry.name
                if name in value:
                    entry.check(value[name], (*path, name), run)
                elif entry.has_default:
                    self._inject(entry, value, path, run)

        return check

    def _inject(self, entry: _Property, value: dict[str, Any], path: Path_, run: _Run) -> None:
        """Write a default the way jesse does: set it, then validate what was set."""
        if entry.clean is None:
            probe = _clone(entry.default)
            trial = _Run()
            entry.check(probe, (entry.name,), trial)
            if trial.errors or trial.warnings:
                entry.clean = False
            else:
                entry.default = probe
                entry.clean = True
        if entry.clean:
            value[entry.name] = _clone(entry.default)
            return
        injected = _clone(entry.default)
        value[entry.name] = injected
        entry.check(injected, (*path, entry.name), run)

    def _pattern_properties(
        self, schema: Mapping[str, Any], root: Mapping[str, Any], root_id: str
    ) -> _Check:
        table = tuple(
            (re.compile(pattern), self.compile(sub, root, root_id))
            for pattern, sub in schema["patternProperties"].items()
        )

        def check(value: Any, path: Path_, run: _Run) -> None:
            if not isinstance(value, dict):
                return
            for key, item in list(value.items()):
                for regex, sub in table:
                    if regex.search(key):
                        sub(item, (*path, key), run)

        return check

    def _additional(
        self, schema: Mapping[str, Any], root: Mapping[str, Any], root_id: str
    ) -> _Check:
        extra = schema["additionalProperties"]
        if extra is True:
            return _accept
        known = frozenset(schema.get("properties", {}))
        patterns = tuple(re.compile(p) for p in schema.get("patternProperties", {}))
        sub = self.compile(extra, root, root_id) if isinstance(extra, dict) else None

        def check(value: Any, path: Path_, run: _Run) -> None:
            if not isinstance(value, dict):
                return
            for key, item in list(value.items()):
                if key in known or any(p.search(key) for p in patterns):
                    continue
                if sub is None:
                    run.errors.append(((*path, key), "additionalProperties", item, value))
                else:
                    sub(item, (*path, key), run)

        return check

    def _required(self, names: list[str]) -> _Check:
        wanted = tuple(names)

        def check(value: Any, path: Path_, run: _Run) -> None:
            if isinstance(value, dict):
                for name in wanted:
                    if name not in value:
                        run.errors.append(((*path, name), "required", name, None))

        return check

    def _dependencies(
        self, dependencies: Mapping[str, Any], root: Mapping[str, Any], root_id: str
    ) -> _Check:
        table: list[tuple[str, _Check | tuple[str, ...]]] = []
        for name, dep in dependencies.items():
            if isinstance(dep, dict):
                table.append((name, self.compile(dep, root, root_id)))
            else:
                table.append((name, tuple(dep)))

        def check(value: Any, path: Path_, run: _Run) -> None:
            if not isinstance(value, dict):
                return
            for name, dep in table:
                if name not in value:
                    continue
                if isinstance(dep, tuple):
                    for needed in dep:
                        if needed not in value:
                            run.errors.append((path, "dependencies", value, needed))
                else:
                    dep(value, path, run)

        return check

    def _combinator(self, word: str, subs: list[_Check]) -> _Check:
        if word == "allOf":
            branches = tuple(subs)

            def all_of(value: Any, path: Path_, run: _Run) -> None:
                for sub in branches:
                    sub(value, path, run)

            return all_of

        def trial(sub: _Check, value: Any, path: Path_) -> tuple[Any, _Run]:
            copy = _clone(value)
            attempt = _Run()
            sub(copy, path, attempt)
            return copy, attempt

        if word == "anyOf":

            def any_of(value: Any, path: Path_, run: _Run) -> None:
                fewest: list[_Raw] | None = None
                for sub in subs:
                    copy, attempt = trial(sub, value, path)
                    if not attempt.errors:
                        _adopt(value, copy)
                        run.warnings.extend(attempt.warnings)
                        return
                    if fewest is None or len(attempt.errors) < len(fewest):
                        fewest = attempt.errors
                run.errors.append((path, "anyOf", value, fewest))

            return any_of

        def one_of(value: Any, path: Path_, run: _Run) -> None:
            matched: tuple[Any, _Run] | None = None
            matches = 0
            failures: list[_Raw] = []
            for sub in subs:
                copy, attempt = trial(sub, value, path)
                if attempt.errors:
                    failures.extend(attempt.errors)
                    continue
                matches += 1
                if matches > 1:
                    break
                matched = (copy, attempt)
            if matches == 1 and matched is not None:
                _adopt(value, matched[0])
                run.warnings.extend(matched[1].warnings)
            elif matches == 0:
                run.errors.append((path, "oneOf", value, failures))
            else:
                run.errors.append((path, "oneOf", value, "several"))

        return one_of

    def _not(self, sub: _Check) -> _Check:
        def check(value: Any, path: Path_, run: _Run) -> None:
            attempt = _Run()
            sub(_clone(value), path, attempt)
            if not attempt.errors:
                run.errors.append((path, "not", value, None))

        return check

    def _client_url(self, root_id: str) -> _Check:
        blacklist = self._blacklist
        rule = self._url_rule
        strict = self._strict

        def check(value: Any, path: Path_, run: _Run) -> None:
            if type(value) is not str or not rule(root_id, path[-1] if path else ""):
                return
            reason = blacklist.reason(value)
            if reason is not None:
                (run.errors if strict else run.warnings).append(
                    (path, "kazoo-validation", value, reason)
                )

        return check


def _accept(value: Any, path: Path_, run: _Run) -> None:
    """A schema with nothing to check."""


# --------------------------------------------------------------------------- messages


def _where(path: Path_) -> str:
    return ".".join(path) if path else "the node"


def _type_words(spec: Any) -> str:
    names = [spec] if isinstance(spec, str) else list(spec)
    return " or ".join(_TYPE_WORDS.get(name, name) for name in names)


def _message(raw: _Raw, root: Any, warning: bool) -> str:
    """Plain-words explanation: the path, the offending value, what Kazoo expects."""
    path, keyword, value, target = raw
    where = _where(path)
    shown = _show(value)
    if keyword == "type":
        if not path:
            return (
                f"the reply must be a JSON object (one callflow node "
                f'{{"module": ..., "data": {{...}}, "children": {{...}}}}); Kazoo\'s schema rejects {shown}'
            )
        text = f"{where} must be {_type_words(target)}; Kazoo's schema rejects {shown}"
        names = [target] if isinstance(target, str) else list(target)
        if isinstance(value, str) and ("integer" in names or "number" in names):
            if re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
                text += f" (send {value.strip()} as a JSON number, without quotes)"
        elif isinstance(value, str) and "boolean" in names and value.lower() in ("true", "false"):
            text += f" (send {value.lower()} without quotes)"
        elif (
            len(path) >= 2
            and path[-2] == "endpoints"
            and "object" in names
            and isinstance(value, str)
        ):
            text += (
                ' (ring_group endpoints must be objects such as {"id": "'
                + value
                + '", "endpoint_type": "device"}, not bare ids)'
            )
        elif path[-1] == "children":
            text += ' (children maps branch names such as "_" to nodes)'
        return text
    if keyword == "enum":
        choices = ", ".join(_show(option, 40) for option in target)
        return f"{where} must be one of {choices}; Kazoo's schema rejects {shown}"
    if keyword in ("minLength", "maxLength"):
        bound = "at least" if keyword == "minLength" else "at most"
        return f"{where} is {len(value)} characters long; Kazoo allows {bound} {target}"
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        return f"{where} has {len(value)} items; Kazoo requires {bound} {target}"
    if keyword in ("minProperties", "maxProperties"):
        bound = "at least" if keyword == "minProperties" else "at most"
        return f"{where} has {len(value)} keys; Kazoo requires {bound} {target}"
    if keyword in ("minimum", "maximum"):
        bound = "at least" if keyword == "minimum" else "at most"
        return f"{where} is {shown}; Kazoo requires {bound} {_show(target)}"
    if keyword == "pattern":
        text = f"{where} {shown} does not match the pattern {target}"
        if target == "^https?://":
            text += " (it must start with http:// or https://)"
        return text
    if keyword == "required":
        return _required_message(path, root)
    if keyword == "module":
        text = (
            f'module {shown} is unknown: Kazoo says "unable to find callflow schema for '
            f'module {value}"'
        )
        if value == "say":
            text += (
                '. There is no "say" module in Kazoo (the Pivot docs\' recording example '
                'uses one); speak text with "tts" or play media with "play"'
            )
        else:
            text += "; Kazoo only runs modules it has a callflows.<module> schema for"
        return text
    if keyword == "kazoo-validation":
        text = f"{where}: invalid client URL {shown}: {target}"
        if warning:
            text += (
                " (reported as a warning because the blacklist is not strict; "
                "a real Kazoo rejects this node)"
            )
        return text
    if keyword == "additionalProperties":
        return f"{where} is not allowed: this object only accepts the keys its schema lists"
    if keyword == "uniqueItems":
        return f"{where} contains the same item more than once; Kazoo requires unique items"
    if keyword == "oneOf":
        if target == "several":
            return f"{where} {shown} matches more than one of the allowed shapes; Kazoo requires exactly one"
        return f"{where} {shown} matches none of the allowed shapes"
    if keyword == "anyOf":
        return f"{where} {shown} matches none of the allowed shapes"
    if keyword == "not":
        return f"{where} {shown} matches a shape Kazoo's schema forbids"
    if keyword == "format":
        return f"{where} {shown} is not a valid {target}"
    if keyword == "multipleOf":
        return f"{where} is {shown}; Kazoo requires a multiple of {target}"
    if keyword == "dependencies":
        return f"{where} needs {target} as well"
    if keyword == "additionalItems":
        return f"{where} has more items than its schema allows ({target})"
    return f"{where} {shown} fails Kazoo's {keyword} check"


def _required_message(path: Path_, root: Any) -> str:
    where = _where(path)
    text = f"{where} is required but missing"
    if path and path[-1] == "module":
        parent: Any = root
        try:
            for part in path[:-1]:
                parent = parent[part]
        except (KeyError, TypeError):
            parent = None
        if len(path) == 1 and isinstance(parent, dict) and "flow" in parent:
            text += (
                '. The reply is wrapped in {"flow": ...}: Kazoo validates the response body '
                'itself as the callflow node, so return {"module": ..., "data": {...}, '
                '"children": {...}} directly, without the "flow" wrapper'
            )
        elif len(path) >= 3 and path[-3] == "children" and parent == {"data": {}}:
            branch = path[-2]
            text += (
                f". children.{branch} is an empty object: every child must be a node with a "
                'module. To end the flow there, leave the branch out or use "children": {}'
            )
    return text


def _issues(raws: list[_Raw], root: Any, warning: bool) -> list[SchemaIssue]:
    return [
        SchemaIssue(raw[0], raw[1], _message(raw, root, warning), raw[2], raw[3]) for raw in raws
    ]


# --------------------------------------------------------------------------- Crossbar shape


def _crossbar_detail(issue: SchemaIssue) -> tuple[str, dict[str, Any]]:
    """Kazoo's kz_json_schema error code and details object for one issue."""
    keyword, value, target = issue.keyword, issue.value, issue.target
    if keyword == "type":
        types = target if isinstance(target, str) else ", ".join(target or [])
        return "type", {
            "message": f"Value did not match type(s): {types}",
            "target": types,
            "value": value,
        }
    if keyword == "enum":
        return "enum", {
            "message": "Value not found in enumerated list of values",
            "target": target,
            "value": value,
        }
    if keyword == "minLength":
        return "minLength", {
            "message": f"String must be at least {target} characters",
            "target": target,
            "cause": value,
            "value": value,
        }
    if keyword == "maxLength":
        return "maxLength", {
            "message": f"String must not be more than {target} characters",
            "target": target,
            "cause": value,
            "value": value,
        }
    if keyword == "minimum":
        return "minimum", {
            "message": f"Value must be at least {target}",
            "target": target,
            "value": value,
        }
    if keyword == "maximum":
        return "maximum", {
            "message": f"Value must be at most {target}",
            "target": target,
            "value": value,
        }
    if keyword == "minItems":
        return "minItems", {
            "message": f"The list must have at least {target} items",
            "target": target,
            "value": value,
        }
    if keyword == "maxItems":
        return "maxItems", {
            "message": f"The list is more than {target} items",
            "target": target,
            "value": value,
        }
    if keyword == "minProperties":
        return "minProperties", {
            "message": f"The object must have at least {target} keys",
            "target": target,
            "value": value,
        }
    if keyword == "uniqueItems":
        return "uniqueItems", {"message": "List of items is not unique", "value": value}
    if keyword == "additionalProperties":
        return "additionalProperties", {
            "message": "Strict checking of data is enabled; only include schema-defined properties",
            "value": target,
        }
    if keyword == "pattern":
        return "pattern", {
            "message": f"Failed to match pattern '{target}'",
            "target": target,
            "value": value,
        }
    if keyword == "required":
        return "required", {"message": "Field is required but missing", "value": value}
    if keyword == "module":
        return "error", {
            "message": f"unable to find callflow schema for module {value}",
            "value": value,
        }
    if keyword == "kazoo-validation":
        return "error", {"message": "invalid client URL", "value": value}
    if keyword == "format":
        return "wrong_format", {
            "message": "Field is not in the correct format",
            "value": value,
            "format": target,
        }
    if keyword == "dependencies":
        return "dependencies", {"message": "Dependencies were not validated", "value": value}
    return keyword, {"message": "failed to validate", "value": value}


def crossbar_errors(issues: Iterable[SchemaIssue], prefix: str = "") -> dict[str, Any]:
    """Kazoo Crossbar's flat validation-error object for these issues.

    Keys are dotted paths (a literal "." inside a key becomes "%2E"), each
    holding ``{code: details}``.  As in Kazoo, only one error survives per
    path: a later issue for the same path replaces the earlier one.  Use
    ``prefix="flow"`` for a stored callflow, whose node lives under ``flow``.
    """
    out: dict[str, Any] = {}
    head = [prefix] if prefix else []
    for issue in issues:
        key = ".".join(head + [part.replace(".", "%2E") for part in issue.path])
        code, detail = _crossbar_detail(issue)
        out[key] = {code: detail}
    return out


# --------------------------------------------------------------------------- the validator


def default_schema_dir() -> Path:
    """Where pivotsim's own schemas live: inside the wheel, or the repo's schemas/."""
    here = Path(__file__).resolve().parent
    installed = here / "schemas"
    if (installed / "callflow").is_dir():
        return installed
    return here.parent / "schemas"


class FlowValidator:
    """Kazoo's callflow-node validation (callflows.action plus the module schemas).

    By default the project's own schemas (``schemas/callflow``) are used.
    Pass ``kazoo_schemas`` (a Kazoo checkout's
    ``applications/crossbar/priv/couchdb/schemas``) to validate with the
    exact schema files of that Kazoo version instead.
    """

    def __init__(
        self,
        schema_dir: str | os.PathLike[str] | None = None,
        *,
        kazoo_schemas: str | os.PathLike[str] | None = None,
        blacklist: Blacklist | None = None,
        strict_blacklist: bool = False,
    ) -> None:
        self.blacklist = blacklist if blacklist is not None else Blacklist()
        self.strict_blacklist = strict_blacklist
        self._checks: dict[str, _Check | None] = {}
        if kazoo_schemas is not None:
            self._init_kazoo(Path(kazoo_schemas))
        else:
            self._init_own(Path(schema_dir) if schema_dir is not None else default_schema_dir())
        self._compiler = _Compiler(
            self._load, self._url_rule, self.blacklist, self.strict_blacklist
        )

    # -- schema sources -------------------------------------------------------

    def _init_own(self, base: Path) -> None:
        folder = base / "callflow" if (base / "callflow").is_dir() else base
        listing = folder / "_modules.json"
        if not listing.is_file():
            raise FileNotFoundError(f"no callflow schemas in {base} (missing {listing})")
        names = _read_json(str(listing)).get("modules", [])
        self.source = folder
        self.kazoo_mode = False
        self._known = frozenset(str(n) for n in names)
        self._files = {
            name: folder / f"{name}.json"
            for name in self._known
            if _SAFE_NAME.match(name) and (folder / f"{name}.json").is_file()
        }

    def _init_kazoo(self, folder: Path) -> None:
        if not folder.is_dir():
            raise FileNotFoundError(f"Kazoo schema directory {folder} does not exist")
        self.source = folder
        self.kazoo_mode = True
        files: dict[str, Path] = {}
        for path in folder.glob("callflows.*.json"):
            name = path.name[len("callflows.") : -len(".json")]
            if name in _UNUSED_SUBSCHEMAS or name.startswith("audio_macro."):
                continue
            files[name] = path
        if not files:
            raise FileNotFoundError(
                f"no callflows.*.json schema files in {folder} (in a Kazoo checkout they are in "
                "applications/crossbar/priv/couchdb/schemas)")
        self._known = frozenset(files)
        self._files = files

    def _load(self, name: str) -> tuple[Mapping[str, Any], str] | None:
        """Resolve a cross-file $ref by schema id (Kazoo mode: "<id>.json" beside the others)."""
        if not self.kazoo_mode or not _SAFE_NAME.match(name):
            return None
        path = self.source / f"{name}.json"
        if not path.is_file():
            return None
        document = _read_json(str(path))
        return document, str(document.get("_id") or document.get("id") or name)

    def _url_rule(self, schema_id: str, field_name: str) -> bool:
        if not self.kazoo_mode:
            return True
        return f"{schema_id}.{field_name}" in _KAZOO_URL_KEYS

    # -- public API ---------------------------------------------------------

    @property
    def known_modules(self) -> frozenset[str]:
        """Every module name Kazoo accepts in a node."""
        return self._known

    def is_known_module(self, module: str) -> bool:
        """True when Kazoo has a callflows.<module> schema, i.e. accepts the module."""
        return module in self._known

    def module_schema(self, module: str) -> dict[str, Any] | None:
        """The data schema used for a module (None when it has no full schema)."""
        path = self._files.get(module)
        return None if path is None else _read_json(str(path))

    def validate_node(self, node: Any) -> NodeValidation:
        """Validate a callflow node (a Pivot reply body, or a stored flow) like Kazoo.

        Returns a defaulted deep copy of the node plus every error; the input
        is never modified.
        """
        if not isinstance(node, dict):
            raw: _Raw = ((), "type", node, "object")
            return NodeValidation(None, _issues([raw], node, False), [])
        work = _clone(node)
        run = _Run()
        self._check_node(work, (), run)
        return NodeValidation(
            work, _issues(run.errors, work, False), _issues(run.warnings, work, True)
        )

    def validate_data(self, module: str, data: Any) -> NodeValidation:
        """Validate one module's data as the ``data`` of a node (paths start at "data")."""
        return self.validate_node({"module": module, "data": data})

    # -- internals ----------------------------------------------------------

    def _module_check(self, module: str) -> _Check | None:
        """Compiled data check for a known module (cached); None for unknown modules."""
        try:
            return self._checks[module]
        except KeyError:
            pass
        check: _Check | None
        if module not in self._known:
            check = None
        else:
            path = self._files.get(module)
            if path is None:
                check = _accept
            else:
                document = _read_json(str(path))
                schema_id = str(document.get("_id") or document.get("id") or f"callflows.{module}")
                check = self._compiler.compile(document, document, schema_id)
        self._checks[module] = check
        return check

    def _check_node(self, node: Any, path: Path_, run: _Run) -> None:
        """callflows.action: module, data (defaulted to {}) and children, recursively."""
        if not isinstance(node, dict):
            run.errors.append((path, "type", node, "object"))
            return
        if "children" in node:
            children = node["children"]
            where = (*path, "children")
            if isinstance(children, dict):
                for key, child in children.items():
                    if _CHILD_KEY.search(key):
                        self._check_node(child, (*where, key), run)
            else:
                run.errors.append((where, "type", children, "object"))
        module = node.get("module")
        if "data" in node:
            data = node["data"]
        else:
            data = node["data"] = {}
        where = (*path, "data")
        if not isinstance(data, dict):
            run.errors.append((where, "type", data, "object"))
        elif type(module) is str:
            check = self._module_check(module)
            if check is not None:
                check(data, where, run)
        where = (*path, "module")
        if "module" not in node:
            run.errors.append((where, "required", "module", None))
        elif type(module) is not str:
            run.errors.append((where, "type", module, "string"))
        else:
            if len(module) > _MODULE_NAME_MAX:
                run.errors.append((where, "maxLength", module, _MODULE_NAME_MAX))
            elif not module:
                run.errors.append((where, "minLength", module, 1))
            if module not in self._known:
                run.errors.append((where, "module", module, None))
