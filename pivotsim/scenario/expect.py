"""Checking expectations against a transcript, in call order.

A :class:`Checker` walks the transcript's timeline with a cursor. Each
expectation looks at the first item of its kind *after* the item the previous
step matched ("the next request", "the next prompt"); state expectations
(``cavs``) hold at the cursor or become true later; ``diagnostic`` finds a
matching diagnostic anywhere after the cursor; ``no_diagnostic`` looks at the
whole call. The same checker backs scenario files and the Python helpers of the
pytest plugin.
"""

from __future__ import annotations

import json as _json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .._encoding import form_decode
from .._transcript import RequestRecord, Transcript
from . import model as m
from .matchers import MISSING, AnyValue, Matcher, Mismatch, Range, compare, show, to_jsonable
from .template import substitute

__all__ = ["Checker", "Outcome", "request_params", "request_view", "reply_view", "nested_params", "twiml_verbs", "read_path"]


@dataclass
class Outcome:
    """The result of one step: ``passed``, ``failed``, ``error``, ``skipped`` or ``noted``."""

    status: str
    message: str = ""
    mismatches: list[Mismatch] = field(default_factory=list)
    expected: Any = None
    actual: Any = None
    saved: dict[str, Any] = field(default_factory=dict)
    #: index of the transcript event the step matched (for reports)
    event: int | None = None
    #: everything about the matched item (``actual`` holds only the keys expected)
    matched: Any = None

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "noted", "skipped")


class StepError(Exception):
    """The step cannot be checked as written (a bad save path, an unset variable)."""


# -- views: what each kind of expectation compares against ----------------------------


def nested_params(pairs: list[list[str]] | None) -> dict[str, Any]:
    """Form pairs as a server's parser nests them: ``Digits[pin]=1`` gives ``{"Digits": {"pin": "1"}}``."""
    out: dict[str, Any] = {}
    for key, value in pairs or []:
        mm = re.match(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$", key)
        if not mm or not mm.group(2):
            if key in out and not isinstance(out[key], dict):
                prev = out[key]
                out[key] = (prev if isinstance(prev, list) else [prev]) + [value]
            else:
                out[key] = value
            continue
        parts = [mm.group(1)] + re.findall(r"\[([^\[\]]*)\]", mm.group(2))
        cur: Any = out
        for j, part in enumerate(parts[:-1]):
            nxt_is_list = parts[j + 1] == ""
            if not isinstance(cur.get(part), (dict, list)):
                cur[part] = [] if nxt_is_list else {}
            cur = cur[part]
            if isinstance(cur, list):
                break
        last = parts[-1]
        if isinstance(cur, list):
            cur.append(value)
        elif last == "":
            cur.setdefault(parts[-2] if len(parts) > 1 else key, []).append(value)
        else:
            cur[last] = value
    return out


def request_params(rec: RequestRecord) -> Any:
    """The fields as the server reads them (Flask's ``request.values``, PHP's ``$_REQUEST``):
    the URL's own query fields, then the ones Kazoo sent. A GET's record already holds the
    whole query; a POST's form body follows the URL's fields (a name in both is a list, URL
    value first); with a JSON body the body's keys win over same-named URL fields."""
    own = form_decode(urlsplit(rec.url).query) if rec.method != "GET" else []
    if rec.json is not None:
        if not own or not isinstance(rec.json, dict):
            return rec.json
        return {**nested_params(own), **rec.json}
    return nested_params(own + list(rec.params or []))


def request_view(rec: RequestRecord) -> dict[str, Any]:
    parts = urlsplit(rec.url)
    params = request_params(rec)
    if rec.json is not None:
        body_format = "json"
    else:
        body_format = "query" if rec.method == "GET" else "form"
    return {
        "index": rec.index,
        "method": rec.method,
        "url": rec.url,
        "path": parts.path or "/",
        "params": params,
        "headers": {k.lower(): v for k, v in rec.headers.items()},
        "body_format": body_format,
        "purpose": rec.purpose,
        "t_ms": rec.t_ms,
    }


def _element(el: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = dict(el.attrib)
    text = (el.text or "").strip()
    if text:
        out["text"] = text
    if len(el):
        out["verbs"] = [{child.tag: _element(child)} for child in el]
    return out


def twiml_verbs(body: str | None) -> list[dict[str, Any]] | None:
    """A TwiML ``<Response>`` as ``[{Verb: {attr: value, text: ..., verbs: [...]}}]``."""
    if not body or "<Response" not in body:
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if root.tag != "Response":
        return None
    return [{child.tag: _element(child)} for child in root]


def reply_view(rec: RequestRecord) -> dict[str, Any]:
    body = rec.body
    doc: Any = MISSING
    if body:
        try:
            doc = _json.loads(body)
        except ValueError:
            doc = MISSING
    ctype = rec.content_type
    verbs = twiml_verbs(body)
    return {
        "index": rec.index,
        "status": rec.status,
        "content_type": ctype.split(";", 1)[0].strip().lower() if ctype else None,
        "outcome": rec.outcome,
        "headers": dict(rec.response_headers),
        "body": body,
        "json": doc,
        "twiml": verbs if verbs is not None else MISSING,
        "elapsed_ms": rec.elapsed_ms,
        "error": rec.error,
    }


def _norm_twiml(expected: Any) -> Any:
    """``{Say: "Hello"}`` is short for ``{Say: {text: "Hello"}}``, at every level."""
    if not isinstance(expected, list):
        return expected
    out = []
    for item in expected:
        if isinstance(item, dict) and len(item) == 1:
            (verb, value), = item.items()
            if isinstance(value, AnyValue):
                pass  # {Hangup: !any}: the verb is there, whatever it holds
            elif isinstance(value, (str, Matcher)) and not isinstance(value, Range):
                value = {"text": value}
            elif isinstance(value, dict) and "verbs" in value:
                value = {**value, "verbs": _norm_twiml(value["verbs"])}
            elif value is None:
                value = {}
            out.append({verb: value})
        else:
            out.append(item)
    return out


_SEG = re.compile(r"\[([^\[\]]*)\]")


def path_parts(path: str) -> list[str]:
    """``json.children._.data`` or ``params.Digits[pin]`` to its parts."""
    return [p for p in _SEG.sub(r".\1", path).split(".") if p != ""]


def read_path(root: Any, path: str) -> Any:
    cur = root
    walked: list[str] = []
    for part in path_parts(path):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and re.fullmatch(r"-?\d+", part) and -len(cur) <= int(part) < len(cur):
            cur = cur[int(part)]
        else:
            where = ".".join(walked) or "the value"
            if isinstance(cur, dict):
                keys = ", ".join(map(str, list(cur)[:12])) or "none"
                raise StepError(f"{path}: {where} has no key {part!r} (keys: {keys})")
            if isinstance(cur, list):
                raise StepError(f"{path}: {where} has {len(cur)} items, no item {part}")
            raise StepError(f"{path}: {where} is {show(cur)}, not a mapping or list")
        if cur is MISSING:
            raise StepError(f"{path}: {'.'.join(walked + [part])} is not there")
        walked.append(part)
    return cur


_HEADERS_HINT = ("request headers are the ones Kazoo itself sets: Content-Type on a POST, nothing else; "
                 "Host, User-Agent and the like come from the HTTP client, not from Kazoo")


# -- the checker ---------------------------------------------------------------------------


def _fields(step: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: getattr(step, n) for n in names if getattr(step, n) is not m.UNSET}


class Checker:
    """Checks steps against one transcript, in order, moving a cursor along the timeline."""

    def __init__(self, transcript: Transcript, *, strict: bool = False) -> None:
        self.t = transcript
        self.events = transcript.events
        self.strict = strict
        self.cursor = -1
        self.current_request: int | None = None  # event position of a request awaiting its reply step
        self._cav_snapshots: list[tuple[int, dict[str, Any]]] | None = None

    # -- helpers -------------------------------------------------------------------
    def next_event(self, *types: str) -> tuple[int, Any] | None:
        for pos in range(self.cursor + 1, len(self.events)):
            if self.events[pos].type in types:
                return pos, self.events[pos]
        return None

    def next_timeout(self, after: int | None = None) -> int | None:
        """The next input point after the cursor (or ``after``) where nothing was pressed."""
        start = self.cursor if after is None else after
        for pos in range(start + 1, len(self.events)):
            e = self.events[pos]
            if e.type in ("collected", "menu_input") and not e.details.get("digits"):
                return pos
        return None

    def _advance(self, pos: int) -> None:
        self.cursor = max(self.cursor, pos)

    def _when(self) -> str:
        if self.cursor < 0:
            return "from the start of the call"
        e = self.events[min(self.cursor, len(self.events) - 1)]
        return f"after {e.t_ms / 1000:.3f} s"

    def _none_left(self, what: str) -> Outcome:
        end = self.t.end
        how = f"; the call ended: {end.reason} at {end.t_ms / 1000:.3f} s ({end.detail})" if end else ""
        return Outcome("failed", f"no {what} {self._when()}{how}", actual=None)

    def _strict(self, step: Any) -> bool:
        s = getattr(step, "strict", None)
        return self.strict if s is None else bool(s)

    def _result(self, expected: dict[str, Any], actual: dict[str, Any], pos: int, what: str,
                strict: bool = False) -> Outcome:
        mism: list[Mismatch] = []
        for key, exp in expected.items():
            mism.extend(compare(exp, actual.get(key, MISSING), strict=strict, path=key))
        shown_actual = {k: actual.get(k, MISSING) for k in expected} if expected else actual
        status = "failed" if mism else "passed"
        return Outcome(status, f"{what} does not match" if mism else what, mism, to_jsonable(expected),
                       _jsonable_actual(shown_actual), event=pos, matched=_jsonable_actual(actual))

    # -- steps -------------------------------------------------------------------------
    def check(self, step: m.Step, scope: dict[str, Any]) -> Outcome:
        """Check one expectation step; ``scope`` resolves ``${...}`` in its values."""
        kind = step.kind
        fn = getattr(self, f"_check_{kind}")
        out: Outcome = fn(step, scope)
        if out.status == "passed" and isinstance(step, m.Expect) and step.save:
            root = self._save_root(step, out)
            for var, path in step.save.items():
                out.saved[var] = read_path(root, str(substitute(path, scope)))
        return out

    def _save_root(self, step: m.Step, out: Outcome) -> Any:
        if isinstance(step, m.SaveStep):
            return self.t.to_dict()
        if out.event is None:
            return {}
        e = self.events[out.event]
        if step.kind in ("request", "reply"):
            rec = self.t.requests[e.details["index"]]
            return request_view(rec) if step.kind == "request" else reply_view(rec)
        if step.kind == "cavs":
            return {"cavs": out.actual}
        return {"type": e.type, "t_ms": e.t_ms, **e.details}

    def _check_request(self, step: m.RequestStep, scope: dict[str, Any]) -> Outcome:
        found = self.next_event("request")
        if found is None:
            return self._none_left("request")
        pos, e = found
        self._advance(pos)
        self.current_request = pos
        rec = self.t.requests[e.details["index"]]
        view = request_view(rec)
        expected = substitute(_fields(step, ("method", "url", "path", "params", "headers", "body_format",
                                             "purpose")), scope)
        if isinstance(expected.get("method"), str):
            expected["method"] = expected["method"].upper()
        out = self._result(expected, view, pos, f"request {rec.index} {rec.method} {view['path']}",
                           strict=self._strict(step))
        for mm in out.mismatches:
            if mm.path.startswith("headers.") and mm.actual is MISSING and not mm.why:
                mm.why = _HEADERS_HINT + (" (none on a GET)" if rec.method == "GET" else "")
        return out

    def _check_reply(self, step: m.ReplyStep, scope: dict[str, Any]) -> Outcome:
        if self.current_request is not None:
            pos = self.current_request
        else:
            found = self.next_event("request")
            if found is None:
                return self._none_left("request (for this reply)")
            pos = found[0]
            self._advance(pos)
        self.current_request = None
        rec = self.t.requests[self.events[pos].details["index"]]
        view = reply_view(rec)
        expected = substitute(_fields(step, ("status", "content_type", "outcome", "headers", "body", "json",
                                             "twiml")), scope)
        if "twiml" in expected:
            expected["twiml"] = _norm_twiml(expected["twiml"])
        if isinstance(expected.get("content_type"), str):
            expected["content_type"] = expected["content_type"].lower()
        if view["status"] is None and expected:
            return Outcome("failed", f"request {rec.index} got no reply: {rec.error or rec.outcome}",
                           expected=to_jsonable(expected), actual={"outcome": rec.outcome, "error": rec.error},
                           event=pos)
        return self._result(expected, view, pos, f"reply to request {rec.index} ({view['status']} "
                                                 f"{view['content_type'] or 'no content-type'})",
                            strict=self._strict(step))

    def _check_prompt(self, step: m.PromptStep, scope: dict[str, Any]) -> Outcome:
        found = self.next_event("prompt")
        if found is None:
            return self._none_left("prompt")
        pos, e = found
        self._advance(pos)
        d = e.details
        view = {"text": d.get("text", MISSING), "media": d.get("media", MISSING), "source": d.get("source", ""),
                "duration_ms": d.get("duration_ms")}
        heard = d["text"] if "text" in d else d.get("media", "")
        what = f"prompt {show(heard, 80)}"
        if step.heard is not m.UNSET:
            exp = substitute(step.heard, scope)
            mism = compare(exp, heard, path="prompt")
            if mism:
                return Outcome("failed", "the prompt heard does not match", mism, to_jsonable(exp), heard, event=pos)
            return Outcome("passed", what, expected=to_jsonable(exp), actual=heard, event=pos)
        expected = substitute(_fields(step, ("text", "media", "source", "duration_ms")), scope)
        return self._result(expected, view, pos, what)

    def _cav_timeline(self) -> list[tuple[int, dict[str, Any]]]:
        if self._cav_snapshots is None:
            cur = dict(self.t.call.get("custom_application_vars") or {})
            snaps = [(-1, dict(cur))]
            for pos, e in enumerate(self.events):
                if e.type == "cavs_set":
                    cur = {**cur, **(e.details.get("values") or {})}
                    snaps.append((pos, dict(cur)))
            final = self.t.final_state.get("custom_application_vars")
            if final is not None and final != snaps[-1][1]:
                snaps.append((len(self.events) - 1, dict(final)))
            self._cav_snapshots = snaps
        return self._cav_snapshots

    def _check_cavs(self, step: m.CavsStep, scope: dict[str, Any]) -> Outcome:
        expected = substitute(step.values, scope)
        strict = self._strict(step)
        snaps = self._cav_timeline()
        start = 0
        for i, (pos, _) in enumerate(snaps):
            if pos <= self.cursor:
                start = i
        for pos, cavs in snaps[start:]:
            if not compare(expected, cavs, strict=strict):
                self._advance(pos)
                return Outcome("passed", "CAVs", expected=to_jsonable(expected), actual=cavs,
                               event=pos if pos >= 0 else None)
        final = snaps[-1][1]
        mism = compare(expected, final, strict=strict, path="cavs")
        return Outcome("failed", f"the call never held these CAVs {self._when()} (shown: the CAVs at the end)",
                       mism, to_jsonable(expected), final)

    def _simple(self, step: Any, types: tuple[str, ...], what: str, names: tuple[str, ...],
                view_of: Any, short: str, scope: dict[str, Any]) -> Outcome:
        found = self.next_event(*types)
        if found is None:
            return self._none_left(what)
        pos, e = found
        self._advance(pos)
        view = view_of(e)
        expected = substitute(_fields(step, names), scope)
        label = f"{what} {show(view.get(short), 80)}"
        return self._result(expected, view, pos, label)

    def _check_collected(self, step: m.CollectedStep, scope: dict[str, Any]) -> Outcome:
        return self._simple(step, ("collected",), "collection", ("collection", "digits", "how"),
                            lambda e: {"collection": e.details.get("collection"), "digits": e.details.get("digits"),
                                       "how": e.details.get("how")}, "digits", scope)

    def _check_branch(self, step: m.BranchStep, scope: dict[str, Any]) -> Outcome:
        return self._simple(step, ("branch",), "branch", ("key", "path"),
                            lambda e: {"key": str(e.details.get("key")), "path": e.details.get("path")}, "key", scope)

    def _check_bridge(self, step: m.BridgeStep, scope: dict[str, Any]) -> Outcome:
        def view(e: Any) -> dict[str, Any]:
            d = e.details
            return {"target": d.get("target"), "answered": e.type == "bridged",
                    "cause": d.get("cause", "NORMAL_CLEARING" if e.type == "bridged" else None),
                    "code": d.get("code", 200 if e.type == "bridged" else None)}

        return self._simple(step, ("bridged", "bridge_failed"), "bridge", ("target", "answered", "cause", "code"),
                            view, "target", scope)

    def _check_handoff(self, step: m.HandoffStep, scope: dict[str, Any]) -> Outcome:
        return self._simple(step, ("handoff",), "hand-off", ("to", "target"),
                            lambda e: dict(e.details), "target", scope)

    def _diag_expected(self, step: Any, scope: dict[str, Any]) -> dict[str, Any]:
        expected = _fields(step, ("level", "code", "message", "path"))
        return dict(substitute(expected, scope))

    def _check_diagnostic(self, step: m.DiagnosticStep, scope: dict[str, Any]) -> Outcome:
        expected = self._diag_expected(step, scope)
        seen = []
        for pos in range(self.cursor + 1, len(self.events)):
            e = self.events[pos]
            if e.type != "diagnostic":
                continue
            view = {k: e.details.get(k) for k in ("level", "code", "message", "path")}
            seen.append(view)
            if not compare(expected, view):
                self._advance(pos)
                return Outcome("passed", f"diagnostic {view['code']}", expected=to_jsonable(expected),
                               actual=view, event=pos)
        listing = [f"{d['level']} {d['code']}" for d in seen] or ["none"]
        return Outcome("failed", f"no matching diagnostic {self._when()} (diagnostics there: "
                                 f"{', '.join(listing)})", [Mismatch("diagnostic", expected, MISSING)],
                       to_jsonable(expected), seen)

    def _check_no_diagnostic(self, step: m.NoDiagnosticStep, scope: dict[str, Any]) -> Outcome:
        expected = self._diag_expected(step, scope)
        hits = [d.to_dict() for d in self.t.diagnostics
                if not compare(expected, {"level": d.level, "code": d.code, "message": d.message, "path": d.path})]
        if hits:
            mism = [Mismatch(f"diagnostics[{i}]", m.UNSET, f"{h['level']} {h['code']}: {h['message']}",
                             "should not happen") for i, h in enumerate(hits)]
            return Outcome("failed", f"{len(hits)} diagnostic(s) match, none should", mism,
                           to_jsonable(expected), hits)
        return Outcome("passed", "no such diagnostic", expected=to_jsonable(expected), actual=[])

    def _check_event(self, step: m.EventStep, scope: dict[str, Any]) -> Outcome:
        found = self.next_event(step.type)
        if found is None:
            return self._none_left(f"{step.type} event")
        pos, e = found
        self._advance(pos)
        expected = substitute(step.fields, scope)
        return self._result(expected, dict(e.details), pos, f"{step.type} event")

    def _check_save(self, step: m.SaveStep, scope: dict[str, Any]) -> Outcome:
        return Outcome("passed", "saved")


def _jsonable_actual(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, dict):
        return {k: _jsonable_actual(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, list):
        return [_jsonable_actual(v) for v in value]
    return value
