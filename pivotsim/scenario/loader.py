"""Scenario files to :class:`Scenario` objects: parse once, validate, report every problem.

Order of work for one file: read the YAML with positions
(:mod:`.source`), validate each document against ``schemas/scenario.schema.json``,
merge the defaults document in, expand includes and parametrize rows, convert
matchers, and check that every ``${name}`` names something. Every problem
found is collected with its ``file:line:col`` and raised together as a
:class:`SourceError`, so one run shows everything to fix.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from . import model as m
from .matchers import MATCHER_KEYS, Matcher, Range, matcher_from_mapping
from .source import Document, Loc, Positions, Problem, SourceError, read_documents
from .template import refs_in

__all__ = ["load_paths", "load_file", "load_text", "find_files", "schema", "SourceError", "Problem",
           "SCENARIO_SUFFIXES"]

SCENARIO_SUFFIXES = (".pivot.yaml", ".pivot.yml")
_DEFAULTS_FINALLY = "defaults.finally"  # the path under which a defaults document's finally steps are built
_Path = tuple[Any, ...]


# -- the JSON Schema ------------------------------------------------------------------


def _schema_file() -> Path:
    from .._schemas import default_schema_dir

    return default_schema_dir() / "scenario.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The scenario file schema (``schemas/scenario.schema.json``)."""
    with open(_schema_file(), encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@cache
def _validator(definition: str) -> Any:
    from jsonschema import Draft202012Validator

    root = schema()
    sub = {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(sub)


def _where(path: _Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "the document"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in MATCHER_KEYS:
            return "a matcher"
        return "a mapping"
    return type(value).__name__


_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "object": "a mapping", "array": "a list", "null": "null"}


def _shape(sub: Mapping[str, Any]) -> str:
    if "title" in sub:  # a branch that names itself (a case-insensitive pattern, say)
        return str(sub["title"])
    ref = sub.get("$ref", "")
    if ref.endswith("/matcher"):
        return "a matcher (!re, !type, !absent, !any)"
    if ref.endswith("/template"):
        return "a ${name} reference"
    if ref:
        target = schema()["$defs"].get(ref.rsplit("/", 1)[-1], {})
        return _shape(target) if target else ref.rsplit("/", 1)[-1]
    if "enum" in sub:
        return "one of " + ", ".join(map(str, sub["enum"]))
    if "const" in sub:
        return json.dumps(sub["const"])
    for key in ("anyOf", "oneOf"):
        if key in sub:
            return " or ".join(_shape(s) for s in sub[key])
    t = sub.get("type")
    if isinstance(t, list):
        return " or ".join(_TYPE_WORDS.get(str(x), str(x)) for x in t)
    if isinstance(t, str):
        return _TYPE_WORDS.get(t, t)
    return "a value"


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _suggest_var(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean ${{{close[0]}}}?)" if close else ""


def _wrong_shape(err: Any) -> bool:
    """The value is not of this branch's kind at all (not merely wrong inside)."""
    if err.relative_path:
        return False
    if err.validator in ("type", "enum", "const"):
        return True
    if err.validator in ("anyOf", "oneOf") and err.context:
        return not any(c.relative_path for c in err.context) and all(_wrong_shape(c) for c in err.context)
    return False


def _leaf_errors(err: Any) -> list[Any]:
    """For oneOf/anyOf, the errors of the one branch that fits the value's shape."""
    if err.validator not in ("oneOf", "anyOf") or not err.context:
        return [err]
    groups: dict[Any, list[Any]] = {}
    for c in err.context:
        groups.setdefault(c.relative_schema_path[0], []).append(c)
    def template_branch(errs: list[Any]) -> bool:  # the ${name} alternative: never the one meant
        return any(c.validator == "pattern" and str(c.validator_value).startswith("\\$\\{") for c in errs)

    def matcher_branch(idx: Any) -> bool:  # a mapping with no $key is never meant as a matcher
        branches = err.validator_value if isinstance(err.validator_value, list) else []
        sub = branches[idx] if isinstance(idx, int) and idx < len(branches) else {}
        return (str(sub.get("$ref", "")).endswith("/matcher") and isinstance(err.instance, dict)
                and not any(str(k).startswith("$") for k in err.instance))

    viable = [
        errs for idx, errs in groups.items()
        if not template_branch(errs) and not matcher_branch(idx)
        and not any(_wrong_shape(c) for c in errs)
    ]
    if len(viable) == 1:
        return [leaf for c in viable[0] for leaf in _leaf_errors(c)]
    return [err]


def _format(err: Any, pos: Positions, base: _Path = ()) -> list[Problem]:
    path = base + tuple(err.absolute_path)
    where = _where(path)
    v = err.validator
    inst = err.instance
    if v == "additionalProperties" and isinstance(inst, dict):
        known = list(err.schema.get("properties", {}))
        extras = [k for k in inst if k not in known]
        return [
            Problem(pos.key(path + (k,)), f"{where}: unknown key {k!r}{_suggest(k, known)}"
                    + ("" if _suggest(k, known) else f"; known keys: {', '.join(known)}"))
            for k in extras
        ]
    loc = pos.value(path)
    if v == "required":
        missing = [k for k in err.validator_value if k not in inst]
        return [Problem(loc, f"{where}: missing required key {k!r}") for k in missing]
    if v == "type":
        want = err.validator_value
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in (want if isinstance(want, list) else [want]))
        return [Problem(loc, f"{where}: expected {words}, got {_kind(inst)} {_short(inst)}")]
    if v == "enum":
        return [Problem(loc, f"{where}: {_short(inst)} is not one of: "
                             + ", ".join(map(str, err.validator_value))
                             + (_suggest(inst, map(str, err.validator_value)) if isinstance(inst, str) else ""))]
    if v == "const":
        return [Problem(loc, f"{where}: expected {json.dumps(err.validator_value)}, got {_short(inst)}")]
    if v in ("oneOf", "anyOf"):
        if path and path[-1:] and isinstance(path[-1], int) and len(path) >= 2 and path[-2] in ("steps", "finally"):
            return [Problem(loc, f"{where}: a step is a mapping such as {{press: \"1\"}} or "
                                 f"{{prompt: ...}}, or the word hangup or silence; got {_kind(inst)} {_short(inst)}")]
        return [Problem(loc, f"{where}: expected {_shape(err.schema)}, got {_kind(inst)} {_short(inst)}")]
    if v == "pattern":
        if "title" in err.schema:
            return [Problem(loc, f"{where}: expected {err.schema['title']}, got {_short(inst)}")]
        if "0-9*#" in err.validator_value:
            return [Problem(loc, f"{where}: {_short(inst)} is not DTMF digits (0-9, *, #, A-D, or ${{name}})")]
        if "ms|s" in err.validator_value:
            return [Problem(loc, f"{where}: {_short(inst)} is not a duration (2500, 2.5s or 300ms)")]
        return [Problem(loc, f"{where}: {_short(inst)} does not match {err.validator_value}")]
    if v == "propertyNames":
        return [Problem(loc, f"{where}: {err.message}")]
    if v in ("minProperties", "minItems", "maxProperties"):
        return [Problem(loc, f"{where}: {err.message.replace('[]', 'an empty list').replace('{}', 'an empty mapping')}")]
    return [Problem(loc, f"{where}: {err.message}")]


def _short(value: Any, n: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def validate(value: Any, definition: str, pos: Positions, base: _Path = ()) -> list[Problem]:
    """Every schema problem of ``value`` against ``$defs/definition``, with positions."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for err in sorted(_validator(definition).iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in _leaf_errors(err):
            for p in _format(leaf, pos, base):
                key = (str(p.loc), p.message)
                if key not in seen:
                    seen.add(key)
                    problems.append(p)
    problems.sort(key=lambda p: (p.loc.line, p.loc.col) if p.loc else (0, 0))
    return problems


# -- building ----------------------------------------------------------------------------


@dataclass
class _Ctx:
    """What building one document needs: positions, the file, collected problems."""

    file: str
    pos: Positions
    problems: list[Problem]
    base_dir: Path

    def at(self, path: _Path) -> Loc:
        return self.pos.value(path)

    def key_at(self, path: _Path) -> Loc:
        return self.pos.key(path)

    def error(self, path: _Path, message: str, *, key: bool = False) -> None:
        self.problems.append(Problem(self.key_at(path) if key else self.at(path), f"{_where(path)}: {message}"))


def expected_values(value: Any, ctx: _Ctx | None, path: _Path) -> Any:
    """Turn matcher mappings (``{$re: ...}``) into :class:`Matcher` objects, recursively."""
    if isinstance(value, Matcher):
        return value
    if isinstance(value, dict):
        if value and any(k in MATCHER_KEYS for k in value):
            try:
                found = matcher_from_mapping(value)
            except ValueError as exc:
                if ctx is None:
                    raise
                ctx.error(path, str(exc))
                return value
            if found is not None:
                return found
        return {k: expected_values(v, ctx, path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [expected_values(v, ctx, path + (i,)) for i, v in enumerate(value)]
    return value


def _no_matchers(value: Any, ctx: _Ctx, path: _Path) -> None:
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in MATCHER_KEYS:
            ctx.error(path, "matchers (!re, !type, !absent, !any) belong in expectations, not in settings")
            return
        for k, v in value.items():
            _no_matchers(v, ctx, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_matchers(v, ctx, path + (i,))


def nest_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``{"Digits[pin]": "1"}`` to ``{"Digits": {"pin": "1"}}`` (plain keys pass through)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        parts = _bracket_parts(key)
        if len(parts) == 1:
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key].update(value)
            else:
                out[key] = value
            continue
        cur = out
        for part in parts[:-1]:
            nxt = cur.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                cur[part] = nxt
            cur = nxt
        cur[parts[-1]] = value
    return out


_BRACKETS = re.compile(r"^([^\[\]]+)((\[[^\[\]]*\])+)$")


def _bracket_parts(key: str) -> list[str]:
    mm = _BRACKETS.match(key)
    if not mm:
        return [key]
    return [mm.group(1)] + re.findall(r"\[([^\[\]]*)\]", mm.group(2))


def parse_duration(value: Any) -> int:
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.endswith("ms"):
        return int(float(text[:-2]))
    if text.endswith("s"):
        return int(round(float(text[:-1]) * 1000))
    return int(float(text))


_EXPECT_FIELDS: dict[str, tuple[str, ...]] = {
    "request": ("method", "url", "path", "params", "headers", "body_format", "purpose"),
    "reply": ("status", "content_type", "outcome", "headers", "body", "json", "twiml"),
    "prompt": ("text", "media", "source", "duration_ms"),
    "collected": ("collection", "digits", "how"),
    "branch": ("key", "path"),
    "bridge": ("target", "answered", "cause", "code"),
    "handoff": ("to", "target"),
    "diagnostic": ("level", "code", "message", "path"),
    "no_diagnostic": ("level", "code", "message", "path"),
}
# What a bare value (not a mapping) means for each expectation.
_SHORT_FIELD = {"prompt": "heard", "collected": "digits", "branch": "key", "bridge": "target",
                "handoff": "target", "diagnostic": "code", "no_diagnostic": "code"}


class _StepsBuilder:
    """Steps of one scenario (or of the files it includes)."""

    def __init__(self, loader: _Loader, known: set[str]) -> None:
        self.loader = loader
        self.known = known  # static names: variables, parameters, --var
        self.saved: dict[str, Loc] = {}  # names saved by earlier steps

    def build(self, raw: list[Any], ctx: _Ctx, path: _Path, *, final: bool, via: tuple[Loc, ...] = (),
              bound: tuple[tuple[dict[str, Any], dict[str, Any]], ...] = (),
              names: frozenset[str] = frozenset(), stack: tuple[str, ...] = ()) -> list[m.Step]:
        out: list[m.Step] = []
        for i, item in enumerate(raw):
            p = path + (i,)
            if isinstance(item, str):
                item = {item: True}
            if not isinstance(item, dict):
                continue  # the schema reported it
            kinds = [k for k in item if k not in ("name", "save")]
            if not kinds and "save" in item:
                kinds = ["save"]
            if len(kinds) != 1:
                if not kinds:
                    ctx.error(p, "a step needs one action or expectation key (press, prompt, request, ...)")
                else:
                    ctx.error(p, f"one action or expectation per step, got {', '.join(kinds)}: "
                                 "write them as separate steps")
                continue
            kind = kinds[0]
            if kind == "include":
                out.extend(self._include(item["include"], ctx, p + ("include",), final=final, via=via,
                                         bound=bound, names=names, stack=stack))
                continue
            step = self._one(kind, item, ctx, p, final=final)
            if step is None:
                continue
            step.via = via
            step.bound = bound  # type: ignore[assignment]
            if "name" in item:
                step.name = str(item["name"])
            self._check_refs(step, item, ctx, p, names)
            if isinstance(step, m.Expect) and "save" in item:
                step.save = dict(item["save"])
                for var in step.save:
                    self.saved.setdefault(var, step.loc)
            elif "save" in item:
                ctx.error(p + ("save",), f"save goes on an expectation step, not on {kind}", key=True)
            out.append(step)
        return out

    def _check_refs(self, step: m.Step, item: dict[str, Any], ctx: _Ctx, p: _Path, names: frozenset[str]) -> None:
        for key, value in item.items():
            if key in ("name", "save"):
                continue
            for ref, rpath in _refs_with_paths(value, p + (key,)):
                head = ref.strip().split(".", 1)[0]
                if head == "env":
                    continue
                if head in self.known or head in names:
                    continue
                if head in self.saved:
                    if isinstance(step, m.Action):
                        ctx.error(rpath, f"${{{head}}} is saved by the step at line {self.saved[head].line}, "
                                         "after the call; caller actions are decided before the call, so "
                                         "they can use variables, parametrize and --var only")
                    continue
                known = sorted(self.known | names | set(self.saved))
                ctx.error(rpath, f"unknown variable ${{{head}}}{_suggest_var(head, known)}; known: "
                                 + (", ".join(known) if known else "none are defined"))

    def _include(self, spec: Any, ctx: _Ctx, p: _Path, *, final: bool, via: tuple[Loc, ...],
                 bound: tuple[tuple[dict[str, Any], dict[str, Any]], ...], names: frozenset[str],
                 stack: tuple[str, ...]) -> list[m.Step]:
        if isinstance(spec, str):
            ref, with_ = spec, {}
        elif isinstance(spec, dict):
            ref, with_ = str(spec.get("file", "")), dict(spec.get("with") or {})
        else:
            return []
        file_part, _, block = ref.partition("#")
        target = (ctx.base_dir / file_part).resolve()
        key = f"{target}#{block}"
        if key in stack:
            ctx.error(p, f"include cycle: {ref} includes itself")
            return []
        loaded = self.loader.steps_file(target, ctx, p)
        if loaded is None:
            return []
        inc_ctx, value = loaded
        if block:
            blocks = value.get("blocks") or {}
            if block not in blocks:
                ctx.error(p, f"{file_part} has no block {block!r}"
                             + (f"; its blocks: {', '.join(blocks)}" if blocks else " (it has no blocks:)"))
                return []
            raw = blocks[block]
            rpath: _Path = ("blocks", block)
        else:  # the file's main steps
            rpath = ("steps",)
            if "steps" not in value:
                ctx.error(p, f"{file_part} has no steps: list; name a block with {file_part}#NAME")
                return []
            raw = value["steps"]
        defaults = dict(value.get("variables") or {})
        layer = (defaults, with_)
        here = ctx.at(p)
        return self.build(raw, inc_ctx, rpath, final=final, via=via + (here,), bound=bound + (layer,),
                          names=names | frozenset(defaults) | frozenset(with_), stack=stack + (key,))

    # -- one step ----------------------------------------------------------------------
    def _one(self, kind: str, item: dict[str, Any], ctx: _Ctx, p: _Path, *, final: bool) -> m.Step | None:
        value = item[kind]
        loc = ctx.at(p)
        kp = p + (kind,)
        if kind in m.ACTION_KINDS and final:
            ctx.error(kp, f"{kind} is a caller action; finally runs after the call, so it can only "
                          "hold expectations and http steps", key=True)
            return None
        if kind == "http" and not final:
            ctx.error(kp, "http steps go in finally (they run after the call, e.g. to reset test data)", key=True)
            return None
        if kind in ("press", "type_ahead"):
            digits = str(value) if value is not None else ""
            return m.Press(loc, digits) if kind == "press" else m.TypeAhead(loc, digits)
        if kind == "silence":
            return m.Silence(loc, 1 if value is True else int(value))
        if kind == "hangup":
            return m.Hangup(loc)
        if kind == "wait":
            return m.Wait(loc, parse_duration(value))
        if kind == "http":
            return m.HttpStep(
                loc,
                method=str(value.get("method", "POST")).upper(),
                path=str(value.get("path", "/")),
                headers=dict(value.get("headers") or {}),
                json=value.get("json", m.UNSET),
                form=value.get("form", m.UNSET),
                body=value.get("body", m.UNSET),
                status=expected_values(value.get("status", m.UNSET), ctx, kp + ("status",)),
            )
        if kind == "cavs":
            return m.CavsStep(loc, expected_values(dict(value), ctx, kp))
        if kind == "event":
            fields = {k: expected_values(v, ctx, kp + (k,)) for k, v in value.items() if k != "type"}
            return m.EventStep(loc, str(value["type"]), fields)
        if kind == "save":
            return m.SaveStep(loc)
        cls = m.EXPECT_KINDS[kind]
        kwargs: dict[str, Any] = {}
        if isinstance(value, dict) and not (len(value) == 1 and next(iter(value)) in MATCHER_KEYS):
            for f in _EXPECT_FIELDS[kind]:
                if f in value:
                    kwargs[f] = expected_values(value[f], ctx, kp + (f,))
            if "strict" in value:
                kwargs["strict"] = bool(value["strict"])
            if kind == "request" and isinstance(kwargs.get("params"), dict):
                kwargs["params"] = nest_params(kwargs["params"])
            if kind == "request" and isinstance(kwargs.get("headers"), dict):
                kwargs["headers"] = {str(k).lower(): v for k, v in kwargs["headers"].items()}
            if kind == "reply" and isinstance(kwargs.get("headers"), dict):
                kwargs["headers"] = {str(k).lower(): v for k, v in kwargs["headers"].items()}
            if kind == "prompt" and "duration_ms" in kwargs:
                kwargs["duration_ms"] = _bounded(kwargs["duration_ms"])
        else:
            short = _SHORT_FIELD[kind]
            v = expected_values(value, ctx, kp)
            if kind in ("collected", "branch") and isinstance(v, int) and not isinstance(v, bool):
                v = str(v)
            kwargs[short] = v
        if kind == "collected" and isinstance(kwargs.get("digits"), int):
            kwargs["digits"] = str(kwargs["digits"])
        if kind == "branch" and isinstance(kwargs.get("key"), int):
            kwargs["key"] = str(kwargs["key"])
        return cls(loc, **kwargs)


def _bounded(value: Any) -> Any:
    if isinstance(value, dict) and set(value) <= {"min", "max"} and value:
        return Range(value.get("min"), value.get("max"))
    return value


def _refs_with_paths(value: Any, path: _Path) -> list[tuple[str, _Path]]:
    out: list[tuple[str, _Path]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_refs_with_paths(v, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_refs_with_paths(v, path + (i,)))
    else:
        out.extend((r, path) for r in refs_in(value))
    return out


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _deep_merge(base[k], v) if k in base else v
        return out
    return over


_MERGED = ("node", "call", "caller", "fixtures", "options", "variables", "end")


class _Loader:
    def __init__(self, cli_vars: Mapping[str, Any] | None = None) -> None:
        self.cli_vars = dict(cli_vars or {})
        self._steps_files: dict[Path, tuple[_Ctx, dict[str, Any]] | None] = {}

    def steps_file(self, path: Path, site: _Ctx, p: _Path) -> tuple[_Ctx, dict[str, Any]] | None:
        if path in self._steps_files:
            return self._steps_files[path]
        shown = _display(path)
        result: tuple[_Ctx, dict[str, Any]] | None = None
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            site.error(p, f"cannot read {shown}: {exc.strerror or exc}")
            self._steps_files[path] = None
            return None
        try:
            docs = read_documents(text, shown)
        except SourceError as exc:
            site.problems.extend(exc.problems)
            self._steps_files[path] = None
            return None
        if len(docs) != 1 or not isinstance(docs[0].value, dict):
            site.error(p, f"{shown} must hold one YAML mapping with steps: and/or blocks:")
            self._steps_files[path] = None
            return None
        doc = docs[0]
        probs = validate(doc.value, "stepsFile", doc.positions)
        if probs:
            site.problems.extend(probs)
        else:
            result = (_Ctx(shown, doc.positions, site.problems, path.parent), doc.value)
        self._steps_files[path] = result
        return result

    def load_text(self, text: str, file: str, base_dir: Path) -> list[m.Scenario]:
        problems: list[Problem] = []
        docs = read_documents(text, file, problems)
        scenarios: list[m.Scenario] = []
        defaults: Document | None = None
        names: dict[str, Loc] = {}
        for doc in docs:
            if not isinstance(doc.value, dict):
                problems.append(Problem(doc.loc, f"document {doc.index + 1}: a document is a scenario "
                                        "(scenario: and steps:) or a defaults document (defaults:), "
                                        f"not {_kind(doc.value)}"))
                continue
            if "defaults" in doc.value:
                probs = validate(doc.value, "defaultsDocument", doc.positions)
                problems.extend(probs)
                if probs:
                    problems.extend(_matcher_problems(doc, probs, file, base_dir))
                defaults = None if probs else doc
                continue
            probs = validate(doc.value, "scenario", doc.positions)
            if probs:
                problems.extend(probs)
                problems.extend(_matcher_problems(doc, probs, file, base_dir))
                continue
            ctx = _Ctx(file, doc.positions, problems, base_dir)
            built = self._scenario(doc, defaults, ctx)
            for s in built:
                if s.test_name in names:
                    problems.append(Problem(s.loc, f"scenario {s.test_name!r} is already defined at line "
                                                   f"{names[s.test_name].line}: names must be unique in a file"))
                else:
                    names[s.test_name] = s.loc
            scenarios.extend(built)
        if problems:
            problems.sort(key=lambda p: (p.loc.file, p.loc.line, p.loc.col) if p.loc else ("", 0, 0))
            raise SourceError(problems)
        return scenarios

    def _scenario(self, doc: Document, defaults: Document | None, ctx: _Ctx) -> list[m.Scenario]:
        raw: dict[str, Any] = doc.value
        loc = doc.positions.key(("scenario",))
        if defaults is not None:
            dv = defaults.value["defaults"]
            merged_pos = Positions(ctx.file)
            rb = defaults.positions.rebased(("defaults",), ())
            merged_pos.values.update(rb["values"])
            merged_pos.keys.update(rb["keys"])
            # the defaults' finally steps keep their own place: ("finally", i) is the scenario's
            rf = defaults.positions.rebased(("defaults", "finally"), (_DEFAULTS_FINALLY,))
            merged_pos.values.update(rf["values"])
            merged_pos.keys.update(rf["keys"])
            merged_pos.values.update(doc.positions.values)
            merged_pos.keys.update(doc.positions.keys)
            ctx.pos = merged_pos
            data = dict(raw)
            for k, v in dv.items():
                if k == "finally":
                    continue
                if k not in data:
                    data[k] = copy.deepcopy(v)
                elif k in _MERGED:
                    data[k] = _deep_merge(v, data[k])
            if "finally" in dv:
                own = list(data.get("finally") or [])
                data["_defaults_finally"] = (own, list(dv["finally"]))
        else:
            data = dict(raw)
        name = str(data["scenario"])
        if "target" not in data:
            ctx.problems.append(Problem(loc, f"scenario {name!r} has no target: set target: (a URL or "
                                             "module:attr) here or in a defaults document"))
            return []
        for section in ("node", "call", "caller", "options", "variables", "connect_to", "target"):
            if section in data:
                _no_matchers(data[section], ctx, (section,))
        fixtures = data.get("fixtures") or {}
        if isinstance(fixtures, str):
            fixtures = self._fixtures_file(fixtures, ctx)
        else:
            _no_matchers(fixtures, ctx, ("fixtures",))
        rows = self._rows(data.get("parametrize"), ctx)
        options = dict(data.get("options") or {})
        kazoo_schemas = options.pop("kazoo_schemas", None)
        if kazoo_schemas is not None and not os.path.isabs(kazoo_schemas):
            kazoo_schemas = str(ctx.base_dir / kazoo_schemas)
        node = m.NodeSpec(**{k: v for k, v in (data.get("node") or {}).items()})
        variables = dict(data.get("variables") or {})
        self._check_variables(variables, rows, ctx)
        out: list[m.Scenario] = []
        n_problems = len(ctx.problems)
        for param_id, row in rows:
            known = set(variables) | set(row) | set(self.cli_vars)
            sb = _StepsBuilder(self, known)
            steps = sb.build(list(data.get("steps") or []), ctx, ("steps",), final=False)
            if "_defaults_finally" in data:
                own, extra = data["_defaults_finally"]
                final = sb.build(own, ctx, ("finally",), final=True)
                final += sb.build(extra, ctx, (_DEFAULTS_FINALLY,), final=True)
            else:
                final = sb.build(list(data.get("finally") or []), ctx, ("finally",), final=True)
            self._check_actions(steps, ctx)
            for ref, rpath in _refs_with_paths({k: data[k] for k in ("target", "node", "call", "connect_to")
                                                if k in data}, ()):
                head = ref.split(".", 1)[0]
                if head != "env" and head not in known:
                    ctx.error(rpath, f"unknown variable ${{{head}}}{_suggest_var(head, sorted(known))}; "
                                     f"known: {', '.join(sorted(known)) or 'none are defined'}")
            for ref, rpath in _refs_with_paths(data.get("end") or {}, ("end",)):
                head = ref.split(".", 1)[0]
                if head != "env" and head not in known and head not in sb.saved:
                    every = sorted(known | set(sb.saved))
                    ctx.error(rpath, f"unknown variable ${{{head}}}{_suggest_var(head, every)}; "
                                     f"known: {', '.join(every) or 'none are defined'}")
            end = self._end(data["end"], ctx) if data.get("end") else None
            skip = data.get("skip")
            out.append(m.Scenario(
                name=name,
                file=ctx.file,
                loc=loc,
                target=data["target"],
                steps=steps,
                final=final,
                end=end,
                param_id=param_id,
                params=row,
                description=str(data.get("description", "")),
                tags=[str(t) for t in data.get("tags") or []],
                skip=(skip if isinstance(skip, str) else "skipped") if skip else None,
                connect_to=[str(c) for c in data.get("connect_to") or []],
                node=copy.deepcopy(node),
                call=dict(data.get("call") or {}),
                caller=dict(data.get("caller") or {}),
                fixtures=copy.deepcopy(fixtures),
                options=options,
                kazoo_schemas=kazoo_schemas,
                variables=variables,
                strict=bool(data.get("strict", False)),
            ))
            if len(ctx.problems) > n_problems:
                break  # the same mistake would be reported once per row
        return out

    def _check_variables(self, variables: dict[str, Any], rows: list[tuple[str | None, dict[str, Any]]],
                         ctx: _Ctx) -> None:
        """A variable may use the parameters, --var, and the variables defined before it."""
        columns = set().union(*(set(r) for _, r in rows)) if rows else set()
        defined: set[str] = set(columns) | set(self.cli_vars)
        for name, value in variables.items():
            for ref, rpath in _refs_with_paths(value, ("variables", name)):
                head = ref.strip().split(".", 1)[0]
                if head == "env" or head in defined:
                    continue
                later = head in variables
                ctx.error(rpath, f"${{{head}}} " + (f"is defined after {name}: a variable can only use the "
                                                    "ones before it" if later else
                                                    f"is unknown{_suggest_var(head, sorted(defined | set(variables)))}"))
            defined.add(name)

    def _check_actions(self, steps: list[m.Step], ctx: _Ctx) -> None:
        actions = [s for s in steps if isinstance(s, m.Action)]
        for i, a in enumerate(actions):
            if isinstance(a, m.Wait):
                nxt = actions[i + 1] if i + 1 < len(actions) else None
                if not isinstance(nxt, (m.Press, m.TypeAhead, m.Hangup)):
                    what = f"{nxt.kind} (line {nxt.loc.line})" if nxt else "nothing"
                    ctx.problems.append(Problem(a.loc, f"wait delays the next press, type_ahead or hangup, "
                                                       f"but it is followed by {what}"))

    def _fixtures_file(self, ref: str, ctx: _Ctx) -> dict[str, Any]:
        path = (ctx.base_dir / ref).resolve()
        shown = _display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            ctx.error(("fixtures",), f"cannot read {shown}: {exc.strerror or exc}")
            return {}
        try:
            docs = read_documents(text, shown)
        except SourceError as exc:
            ctx.problems.extend(exc.problems)
            return {}
        if not docs:
            return {}
        doc = docs[0]
        if not isinstance(doc.value, dict):
            ctx.problems.append(Problem(doc.loc, "a fixtures file holds one mapping (menus:, users:, outcomes: ...)"))
            return {}
        fx_schema = schema()["$defs"]["fixtures"]["oneOf"][1]
        from jsonschema import Draft202012Validator

        v = Draft202012Validator({"$defs": schema()["$defs"], **fx_schema})
        for err in v.iter_errors(doc.value):
            for leaf in _leaf_errors(err):
                ctx.problems.extend(_format(leaf, doc.positions))
        return dict(doc.value)

    def _rows(self, spec: Any, ctx: _Ctx) -> list[tuple[str | None, dict[str, Any]]]:
        if not spec:
            return [(None, {})]
        rows: list[tuple[str | None, dict[str, Any]]] = []
        if isinstance(spec, list):
            for i, row in enumerate(spec):
                values = {k: v for k, v in row.items() if k != "id"}
                rid = str(row["id"]) if "id" in row else _auto_id(values, i)
                rows.append((rid, values))
        else:
            cols = list(spec["columns"])
            ids = list(spec.get("ids") or [])
            if ids and len(ids) != len(spec["rows"]):
                ctx.error(("parametrize", "ids"), f"{len(ids)} ids for {len(spec['rows'])} rows")
            for i, row in enumerate(spec["rows"]):
                if len(row) != len(cols):
                    ctx.error(("parametrize", "rows", i), f"{len(row)} values for {len(cols)} columns "
                                                          f"({', '.join(cols)})")
                    continue
                values = dict(zip(cols, row, strict=True))
                rows.append((str(ids[i]) if i < len(ids) else _auto_id(values, i), values))
        seen: dict[str, int] = {}
        out: list[tuple[str | None, dict[str, Any]]] = []
        for row_id, row_values in rows:
            base = row_id or ""
            if base in seen:
                seen[base] += 1
                out.append((f"{base}{seen[base]}", row_values))
            else:
                seen[base] = 0
                out.append((row_id, row_values))
        return out

    def _end(self, raw: dict[str, Any], ctx: _Ctx) -> m.EndSpec:
        spec = m.EndSpec(ctx.at(("end",)))
        for key, value in raw.items():
            spec.locs[key] = ctx.key_at(("end", key))
            if key in ("max_latency_ms", "max_latency_pct"):
                setattr(spec, key, float(value))
            elif key in ("duration_ms", "requests"):
                setattr(spec, key, _bounded(expected_values(value, ctx, ("end", key))))
            else:
                setattr(spec, key, expected_values(value, ctx, ("end", key)))
        return spec


def _matcher_problems(doc: Document, known: list[Problem], file: str, base_dir: Path) -> list[Problem]:
    """Malformed matchers (``!type potato``) of a document the schema rejected: it is not
    built, so without this pass they would only show once the other problems are fixed."""
    found: list[Problem] = []
    expected_values(doc.value, _Ctx(file, doc.positions, found, base_dir), ())
    taken = {str(p.loc) for p in known}
    return [p for p in found if str(p.loc) not in taken]


def _auto_id(values: Mapping[str, Any], i: int) -> str:
    parts = []
    for k, v in values.items():
        if isinstance(v, (str, int, float, bool)) and not isinstance(v, bool) and str(v) and len(str(v)) <= 24:
            parts.append(re.sub(r"\s+", "_", str(v)))
        elif isinstance(v, bool):
            parts.append(str(v).lower())
        else:
            parts.append(f"{k}{i}")
    return "-".join(parts) or str(i)


def _display(path: Path) -> str:
    """A path as messages show it: relative to the current directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


# -- public ------------------------------------------------------------------------------


def load_text(text: str, file: str = "<scenario>", *, base_dir: str | os.PathLike[str] | None = None,
              variables: Mapping[str, Any] | None = None) -> list[m.Scenario]:
    """Scenarios from YAML text; ``file`` names it in messages and ids."""
    return _Loader(variables).load_text(text, file, Path(base_dir) if base_dir else Path.cwd())


def load_file(path: str | os.PathLike[str], *, variables: Mapping[str, Any] | None = None,
              display: str | None = None) -> list[m.Scenario]:
    """Scenarios of one file. Raises :class:`SourceError` listing every problem."""
    p = Path(path)
    shown = display or _display(p.resolve())
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError([Problem(None, f"{shown}: cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise SourceError([Problem(Loc(shown, 1, 1), f"not UTF-8 text: {exc.reason}")]) from None
    return _Loader(variables).load_text(text, shown, p.resolve().parent)


def find_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named, plus every ``*.pivot.yaml`` under the folders named, in a stable order."""
    out: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.name.endswith(SCENARIO_SUFFIXES)
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                problems.append(Problem(None, f"{raw}: no *.pivot.yaml files in this folder"))
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            problems.append(Problem(None, f"{raw}: no such file or folder"))
    if problems:
        raise SourceError(problems)
    seen: set[Path] = set()
    uniq = []
    for f in out:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            uniq.append(f)
    return uniq


def load_paths(paths: Iterable[str | os.PathLike[str]], *,
               variables: Mapping[str, Any] | None = None,
               warnings: list[str] | None = None) -> list[m.Scenario]:
    """Every scenario in the files and folders named. All problems of all files are raised together.

    A file without scenarios (empty, comments only, defaults only) is almost always a
    mistake: it is a problem when no file has scenarios, else a line in ``warnings``.
    """
    scenarios: list[m.Scenario] = []
    problems: list[Problem] = []
    empty: list[str] = []
    for f in find_files(paths):
        try:
            found = load_file(f, variables=variables)
        except SourceError as exc:
            problems.extend(exc.problems)
            continue
        if not found:
            empty.append(_display(f.resolve()))
        scenarios.extend(found)
    notes = [f"no scenarios in {name}: a scenario document needs scenario:, target: and steps:" for name in empty]
    if empty and not scenarios and not problems:
        problems.extend(Problem(None, note, file=name) for name, note in zip(empty, notes, strict=True))
    elif warnings is not None:
        warnings.extend(f"warning: {note}" for note in notes)
    if problems:
        raise SourceError(problems)
    return scenarios


def python_step(kind: str, value: Any, loc: Loc) -> m.Step:
    """One expectation step from Python values (matchers may be :class:`Matcher` objects).

    Raises ValueError with the schema's message when the value has the wrong shape.
    """
    from .matchers import to_jsonable

    data = to_jsonable({kind: value})
    pos = Positions(loc.file)
    pos.values[()] = loc
    problems = validate(data, "step", pos)
    if not problems and kind not in m.EXPECT_KINDS:
        problems = [Problem(loc, f"{kind} is not an expectation")]
    ctx = _Ctx(loc.file, pos, problems, Path.cwd())
    step = None if problems else _StepsBuilder(_Loader(), set())._one(kind, data, ctx, (), final=False)
    if problems or step is None:
        def short(msg: str) -> str:
            for prefix in (f"{kind}: ", f"{kind}.", "the document: "):
                if msg.startswith(prefix):
                    return msg[len(prefix):]
            return msg

        raise ValueError("; ".join(short(p.message) for p in problems) or f"cannot build a {kind} step")
    return step


def python_end(value: Mapping[str, Any], loc: Loc) -> m.EndSpec:
    """An ``end`` expectation from Python values."""
    from .matchers import to_jsonable

    data = to_jsonable(dict(value))
    pos = Positions(loc.file)
    pos.values[()] = loc
    problems = validate(data, "end", pos)
    if problems:
        raise ValueError("; ".join(p.message for p in problems))
    ctx = _Ctx(loc.file, pos, problems, Path.cwd())
    spec = _Loader()._end(data, ctx)
    spec.loc = loc
    spec.locs = {k: loc for k in spec.locs}
    return spec
