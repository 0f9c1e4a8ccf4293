"""Play a scenario on the engine and check it: one :class:`ScenarioResult` per scenario.

The engine runs a whole call at once, so a scenario runs in three moves:

1. its caller actions (press, type_ahead, silence, hangup, wait) become the
   caller's script, with every ``${name}`` resolved from variables and
   parameters;
2. the call is placed;
3. the steps are checked in order against the transcript (:mod:`.expect`),
   stopping at the first failure; then the ``end`` expectations and the
   ``finally`` steps run whatever happened.
"""

from __future__ import annotations

import json as _json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin

from .._call import CallProperties
from .._caller import DTMF, Caller, CallerCursor, Hangup, Press, Silence, TypeAhead
from .._engine import Engine, pivot_flow
from .._fixtures import Fixtures
from .._options import Options
from .._targets import TargetError, resolve_target
from .._transcript import Transcript
from .._transports import BaseTransport, HTTPRequest, TransportError
from . import model as m
from .expect import Checker, Outcome, StepError
from .matchers import MISSING, Mismatch, Range, compare, show, to_jsonable
from .source import Loc
from .template import UnknownVariable, substitute

__all__ = ["Runner", "ScenarioResult", "StepResult", "run_scenario", "run_scenarios"]


@dataclass
class StepResult:
    """How one step (or one ``end`` key) fared."""

    section: str  # "steps", "end" or "finally"
    kind: str
    label: str
    loc: Loc
    outcome: Outcome
    via: tuple[Loc, ...] = ()

    @property
    def status(self) -> str:
        return self.outcome.status


@dataclass
class ScenarioResult:
    """A scenario's verdict, its steps' outcomes and the call's transcript."""

    scenario: m.Scenario
    status: str  # passed, failed, error, skipped
    steps: list[StepResult] = field(default_factory=list)
    transcript: Transcript | None = None
    error: str | None = None
    error_loc: Loc | None = None
    seconds: float = 0.0
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.scenario.id

    @property
    def failures(self) -> list[StepResult]:
        return [s for s in self.steps if s.status in ("failed", "error")]

    @property
    def first_failure(self) -> StepResult | None:
        f = self.failures
        return f[0] if f else None


# -- the caller script ------------------------------------------------------------------


class _ScriptCursor(CallerCursor):
    """Remembers the delay (a ``wait``) of the action it handed out last."""

    def __init__(self, caller: _ScriptCaller) -> None:
        super().__init__(caller)
        self.script = caller

    def _took(self, before: int) -> None:
        if self._i > before:
            self.script.current_delay = self.script.delays[self._i - 1]

    def at_prompt(self) -> Any:
        before = self._i
        act = super().at_prompt()
        self._took(before)
        return act

    def at_input(self) -> Any:
        before = self._i
        act = super().at_input()
        self._took(before)
        return act


class _ScriptCaller(Caller):
    """A caller whose reaction time can differ per action: a ``wait`` before a press
    or a hang-up is the time the caller takes at that point.

    Every module reads ``reaction_ms`` right after taking the caller's action, so
    a per-action value here is all a delayed action needs.
    """

    def __init__(self, actions: list[Any], delays: list[int | None], **kw: Any) -> None:
        self.delays = delays
        self.current_delay: int | None = None
        self._base_reaction = 500
        super().__init__(actions, **kw)
        self.last_cursor: _ScriptCursor | None = None

    @property  # type: ignore[override]
    def reaction_ms(self) -> int:
        return self._base_reaction if self.current_delay is None else self.current_delay

    @reaction_ms.setter
    def reaction_ms(self, value: int) -> None:
        self._base_reaction = value

    def cursor(self) -> CallerCursor:
        self.current_delay = None
        self.last_cursor = _ScriptCursor(self)
        return self.last_cursor


@dataclass
class _Script:
    actions: list[Any]
    delays: list[int | None]
    spans: dict[int, tuple[int, int, bool]]  # id(step) -> (first, end, delayed)


class ScenarioInputError(Exception):
    """The scenario cannot run as written; carries the place to point at."""

    def __init__(self, loc: Loc | None, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _layered(base: Mapping[str, Any], bound: Iterable[Any]) -> dict[str, Any]:
    scope = dict(base)
    for defaults, with_ in bound:
        scope = {**{k: substitute(v, scope) for k, v in defaults.items()}, **scope}
        scope.update({k: substitute(v, scope) for k, v in with_.items()})
    return scope


def _compile(scn: m.Scenario, scope: Mapping[str, Any]) -> _Script:
    actions: list[Any] = []
    delays: list[int | None] = []
    spans: dict[int, tuple[int, int, bool]] = {}
    wait: int | None = None
    for step in scn.steps:
        if not isinstance(step, m.Action):
            continue
        start = len(actions)
        if isinstance(step, m.Wait):
            wait = step.ms
            spans[id(step)] = (start, start, False)
            continue
        delayed = wait is not None
        if isinstance(step, (m.Press, m.TypeAhead)):
            try:
                digits = substitute(step.digits, _layered(scope, step.bound))
            except UnknownVariable as exc:
                raise ScenarioInputError(step.loc, str(exc)) from None
            digits = "" if digits is None else str(digits)
            bad = [c for c in digits if c not in DTMF]
            if bad:
                raise ScenarioInputError(step.loc, f"{step.kind} {digits!r}: {bad[0]!r} is not a DTMF digit "
                                                   "(0-9, *, #, A-D)")
            if isinstance(step, m.Press):
                actions.append(Press(digits) if digits else Silence())
            else:
                actions.append(TypeAhead(digits) if digits else Silence())
            delays.append(wait)
        elif isinstance(step, m.Silence):
            for _ in range(step.count):
                actions.append(Silence())
                delays.append(None)
        elif isinstance(step, m.Hangup):
            actions.append(Hangup())
            delays.append(wait)
        wait = None
        spans[id(step)] = (start, len(actions), delayed)
    return _Script(actions, delays, spans)


def _action_outcomes(scn: m.Scenario, script: _Script, consumed: int, t: Transcript) -> dict[int, Outcome]:
    """Which actions the call took, and the dtmf event each press produced."""
    dtmf = [(pos, e) for pos, e in enumerate(t.events) if e.type == "dtmf"]
    j = 0
    event_of: dict[int, int | None] = {}
    for i in range(min(consumed, len(script.actions))):
        act = script.actions[i]
        event_of[i] = None
        if isinstance(act, (Press, TypeAhead)) and act.digits and j < len(dtmf):
            pos, e = dtmf[j]
            got = str(e.details.get("digits", ""))
            if got and act.digits.startswith(got):
                event_of[i] = pos
                j += 1
        elif isinstance(act, Hangup) and t.end is not None and t.end.reason == "caller_hangup":
            event_of[i] = len(t.events) - 1
    end = t.end
    ended = f"the call ended first: {end.reason} at {end.t_ms / 1000:.3f} s ({end.detail})" if end else "the call ended"
    out: dict[int, Outcome] = {}
    for step in scn.steps:
        if not isinstance(step, m.Action) or isinstance(step, m.Wait):
            continue
        first, stop, delayed = script.spans[id(step)]
        what = _label(step)
        if stop <= consumed:
            out[id(step)] = Outcome("passed", what, event=event_of.get(stop - 1) if stop > first else None)
        elif delayed:
            out[id(step)] = Outcome("noted", f"{what}: not taken ({ended}); a delayed action may never happen")
        else:
            point = "prompt or input point" if isinstance(step, (m.Hangup, m.TypeAhead)) else "input point"
            out[id(step)] = Outcome("failed", f"the caller never got to {what}: no {point} was left; {ended}",
                                    expected=what, actual=None)
    return out


def _after_silence(checker: Checker, count: int, last_timeout: int) -> int:
    """Move the cursor to just before the last of the ``count`` inputs that timed out, so the
    next step (``collected: {how: timeout}``, ``branch: timeout``) sees that input itself.
    Returns that input's position: the next silence looks after it."""
    found = last_timeout
    for _ in range(count):
        nxt = checker.next_timeout(after=max(found, checker.cursor))
        if nxt is None:
            break
        found = nxt
    if found > last_timeout:
        checker._advance(found - 1)
    return found


def _label(step: m.Step) -> str:
    if isinstance(step, (m.Press, m.TypeAhead)):
        return f"{step.kind} {step.digits!r}" if step.digits else f"{step.kind} ''"
    if isinstance(step, m.Silence):
        return "silence" if step.count == 1 else f"silence x{step.count}"
    if isinstance(step, m.Wait):
        return f"wait {step.ms} ms"
    if isinstance(step, m.HttpStep):
        return f"http {step.method} {step.path}"
    if isinstance(step, m.EventStep):
        return f"event {step.type}"
    return step.kind


def label(step: m.Step) -> str:
    """A step as reports name it: ``press '1234'``, ``prompt``, ``request``..."""
    base = _label(step)
    return f"{base} ({step.name})" if step.name else base


# -- running ------------------------------------------------------------------------------


class Runner:
    """Runs scenarios; keeps the reply validators between calls (they are costly to build)."""

    def __init__(self, *, variables: Mapping[str, Any] | None = None, target: str | None = None) -> None:
        self.variables = dict(variables or {})
        self.target_override = target
        self._validators: dict[tuple[str | None, bool], Any] = {}

    def validator(self, kazoo_schemas: str | None, strict_blacklist: bool) -> Any:
        key = (kazoo_schemas, strict_blacklist)
        if key not in self._validators:
            from .. import make_validator

            self._validators[key] = make_validator(kazoo_schemas=kazoo_schemas, strict_blacklist=strict_blacklist)
        return self._validators[key]

    def scope(self, scn: m.Scenario) -> dict[str, Any]:
        cli = self.variables
        row = scn.params
        scope: dict[str, Any] = {}
        for k, v in scn.variables.items():
            if k in row or k in cli:
                continue
            scope[k] = substitute(v, {**scope, **row, **cli})
        for k, v in row.items():
            scope[k] = substitute(v, scope) if k not in cli else v
        scope.update(cli)
        return scope

    def run(self, scn: m.Scenario) -> ScenarioResult:
        start = time.perf_counter()
        if scn.skip:
            return ScenarioResult(scn, "skipped", error=scn.skip, seconds=0.0)
        try:
            result = self._run(scn)
        except ScenarioInputError as exc:
            result = ScenarioResult(scn, "error", error=exc.message, error_loc=exc.loc)
        result.seconds = time.perf_counter() - start
        return result

    def _node(self, scn: m.Scenario, scope: Mapping[str, Any]) -> dict[str, Any]:
        """The pivot node's data with ``${...}`` resolved and the types Kazoo's schema wants."""
        try:
            node = substitute(dict(vars(scn.node)), scope)
        except UnknownVariable as exc:
            raise ScenarioInputError(scn.loc, f"node: {exc}") from None
        node["method"] = str(node["method"] or "get").lower()
        checks = {
            "method": ("get", "post"), "req_format": ("kazoo", "twiml"), "req_body_format": (None, "form", "json"),
        }
        for key, allowed in checks.items():
            if node[key] not in allowed:
                raise ScenarioInputError(scn.loc, f"node.{key}: {node[key]!r} is not one of "
                                                  f"{', '.join(a for a in allowed if a)}")
        if node["req_timeout_ms"] is not None:
            try:
                node["req_timeout_ms"] = int(node["req_timeout_ms"])
            except (TypeError, ValueError):
                raise ScenarioInputError(scn.loc, f"node.req_timeout_ms: {node['req_timeout_ms']!r} is not "
                                                  "a whole number") from None
            if not 1 <= node["req_timeout_ms"] <= 5000:
                raise ScenarioInputError(scn.loc, f"node.req_timeout_ms: {node['req_timeout_ms']} is not "
                                                  "between 1 and 5000")
        if isinstance(node["debug"], str):
            node["debug"] = node["debug"].lower() == "true"
        return node

    def _target(self, scn: m.Scenario, scope: Mapping[str, Any],
                node: dict[str, Any]) -> tuple[str, BaseTransport]:
        try:
            target = self.target_override or substitute(scn.target, scope)
            connect_to = [str(substitute(c, scope)) for c in scn.connect_to]
        except UnknownVariable as exc:
            raise ScenarioInputError(scn.loc, str(exc)) from None
        voice_url = str(node["voice_url"]) if node["voice_url"] else None
        try:
            return resolve_target(target, voice_url=voice_url, connect_to=connect_to)
        except TargetError as exc:
            raise ScenarioInputError(scn.loc, str(exc)) from None

    def _call(self, scn: m.Scenario, scope: Mapping[str, Any]) -> CallProperties:
        try:
            return call_properties(substitute(scn.call, scope))
        except UnknownVariable as exc:
            raise ScenarioInputError(scn.loc, str(exc)) from None

    def _run(self, scn: m.Scenario) -> ScenarioResult:
        try:
            scope = self.scope(scn)
        except UnknownVariable as exc:
            raise ScenarioInputError(scn.loc, f"variables: {exc}") from None
        script = _compile(scn, scope)
        caller_kw = {k: int(v) for k, v in scn.caller.items()}
        caller = _ScriptCaller(script.actions, script.delays, **caller_kw)
        try:
            fixtures = Fixtures.from_dict(substitute(scn.fixtures, scope)) if scn.fixtures else Fixtures()
        except (TypeError, ValueError, UnknownVariable) as exc:
            raise ScenarioInputError(scn.loc, f"fixtures: {exc}") from None
        try:
            options = Options(**scn.options)
        except (TypeError, ValueError) as exc:
            raise ScenarioInputError(scn.loc, f"options: {exc}") from None
        call = self._call(scn, scope)
        node = self._node(scn, scope)
        url, transport = self._target(scn, scope, node)
        cdr_url = urljoin(url, str(node["cdr_url"])) if node["cdr_url"] else None
        flow = pivot_flow(url, method=node["method"], req_format=node["req_format"],
                          req_body_format=node["req_body_format"], req_timeout_ms=node["req_timeout_ms"],
                          cdr_url=cdr_url, debug=node["debug"])
        try:
            engine = Engine(transport, validator=self.validator(scn.kazoo_schemas, options.strict_blacklist),
                            options=options)
            transcript = engine.run(flow, call=call, caller=caller, fixtures=fixtures)
            result = ScenarioResult(scn, "passed", transcript=transcript)
            consumed = caller.last_cursor._i if caller.last_cursor is not None else 0
            self._check(scn, result, script, consumed, scope)
            self._final(scn, result, scope, url, transport)
        finally:
            transport.close()
        statuses = {s.status for s in result.steps}
        result.status = "error" if "error" in statuses else "failed" if "failed" in statuses else "passed"
        return result

    def _check(self, scn: m.Scenario, result: ScenarioResult, script: _Script, consumed: int,
               scope: dict[str, Any]) -> None:
        t = result.transcript
        assert t is not None
        acts = _action_outcomes(scn, script, consumed, t)
        checker = Checker(t, strict=scn.strict)
        saved: dict[str, Any] = {}
        stopped = False
        last_timeout = -1  # the timed-out input the last silence stood for
        for step in scn.steps:
            if isinstance(step, m.Wait):
                continue
            if stopped:
                out = Outcome("skipped", "not checked: an earlier step failed")
            elif isinstance(step, m.Action):
                out = acts[id(step)]
                if out.event is not None:
                    checker._advance(out.event)
                elif isinstance(step, m.Silence) and out.status == "passed":
                    last_timeout = _after_silence(checker, step.count, last_timeout)
            else:
                out = self._expect(checker, step, {**scope, **saved})
            saved.update(out.saved)
            result.steps.append(StepResult("steps", step.kind, label(step), step.loc, out, step.via))
            if not out.ok:
                stopped = True
        result.variables = {**scope, **saved}
        if scn.end is not None:
            timeout = self._node(scn, scope)["req_timeout_ms"] or int(scn.options.get("request_timeout_ms", 5000))
            checks = sorted(end_checks(scn.end, t, result.variables, timeout_ms=timeout),
                            key=lambda c: (c[2].line, c[2].col))
            for key, out, loc in checks:
                result.steps.append(StepResult("end", "end", f"end.{key}", loc, out))

    def _expect(self, checker: Checker, step: m.Step, scope: dict[str, Any]) -> Outcome:
        try:
            return checker.check(step, _layered(scope, step.bound))
        except UnknownVariable as exc:
            msg = str(exc)
            if "unknown variable" in msg:
                msg += " (a variable saved by a step that did not run?)"
            return Outcome("error", msg)
        except StepError as exc:
            return Outcome("error", f"save: {exc}")

    def _final(self, scn: m.Scenario, result: ScenarioResult, scope: dict[str, Any], url: str,
               transport: BaseTransport) -> None:
        if not scn.final:
            return
        t = result.transcript
        assert t is not None
        checker = Checker(t, strict=scn.strict)
        saved = dict(result.variables)
        for step in scn.final:
            if isinstance(step, m.HttpStep):
                out = _http(step, url, transport, _layered(saved, step.bound))
            else:
                out = self._expect(checker, step, saved)
                saved.update(out.saved)
            result.steps.append(StepResult("finally", step.kind, label(step), step.loc, out, step.via))
        result.variables = saved

    def run_all(self, scenarios: Iterable[m.Scenario], *, fail_fast: bool = False,
                on_start: Callable[[m.Scenario], None] | None = None,
                on_result: Callable[[ScenarioResult], None] | None = None) -> list[ScenarioResult]:
        results = []
        for scn in scenarios:
            if on_start:
                on_start(scn)
            r = self.run(scn)
            results.append(r)
            if on_result:
                on_result(r)
            if fail_fast and r.status in ("failed", "error"):
                break
        return results


_CALL_KEYS = {"caller_id_name": "caller_id_name", "caller_id_number": "caller_id_number", "from": "from_user",
              "to": "to_user", "request": "request_user", "from_realm": "from_realm", "to_realm": "to_realm",
              "account_id": "account_id", "call_id": "call_id", "language": "language", "seed": "seed"}


def call_properties(c: Mapping[str, Any]) -> CallProperties:
    """A scenario's ``call:`` mapping (``from``, ``to``, ``cavs``...) as :class:`CallProperties`."""
    unknown = sorted(set(c) - set(_CALL_KEYS) - {"cavs", "sip_headers", "user_ids"})
    if unknown:
        raise TypeError(f"unknown call key {unknown[0]!r}; known: "
                        f"{', '.join(sorted([*_CALL_KEYS, 'cavs', 'sip_headers', 'user_ids']))}")
    kw: dict[str, Any] = {}
    for key, attr in _CALL_KEYS.items():
        if key in c:
            kw[attr] = c[key] if key in ("seed", "language") else str(c[key])
    if "to" in c and "request" not in c:
        kw["request_user"] = str(c["to"])
    if "cavs" in c:
        kw["custom_application_vars"] = dict(c["cavs"])
    if "sip_headers" in c:
        kw["custom_sip_headers"] = dict(c["sip_headers"])
    if "user_ids" in c:
        kw["user_ids"] = tuple(str(u) for u in c["user_ids"])
    return CallProperties(**kw)


def _http(step: m.HttpStep, voice_url: str, transport: BaseTransport, scope: Mapping[str, Any]) -> Outcome:
    try:
        path = str(substitute(step.path, scope))
        headers = {k: str(v) for k, v in substitute(step.headers, scope).items()}
        body = b""
        if step.json is not m.UNSET:
            body = _json.dumps(substitute(step.json, scope)).encode()
            headers.setdefault("Content-Type", "application/json")
        elif step.form is not m.UNSET:
            body = urlencode(substitute(step.form, scope)).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif step.body is not m.UNSET:
            body = str(substitute(step.body, scope)).encode()
    except UnknownVariable as exc:
        return Outcome("error", str(exc))
    url = urljoin(voice_url, path)
    what = f"{step.method} {url}"
    try:
        resp = transport.handle(HTTPRequest(step.method, url, headers, body, 10_000))
    except TransportError as exc:
        return Outcome("failed", f"{what}: no reply ({exc.kind}: {exc})")
    if step.status is m.UNSET:
        if 200 <= resp.status < 300:
            return Outcome("passed", f"{what}: {resp.status}", actual=resp.status)
        return Outcome("failed", f"{what}: HTTP {resp.status}, expected a 2xx status",
                       [Mismatch("status", "2xx", resp.status)], "2xx", resp.status)
    mism = compare(step.status, resp.status, path="status")
    if mism:
        return Outcome("failed", f"{what}: unexpected status", mism, to_jsonable(step.status), resp.status)
    return Outcome("passed", f"{what}: {resp.status}", actual=resp.status)


def end_checks(spec: m.EndSpec, t: Transcript, scope: Mapping[str, Any], *,
               timeout_ms: int = 5000) -> list[tuple[str, Outcome, Loc]]:
    """Each ``end`` expectation as ``(key, outcome, where it was written)``."""
    out: list[tuple[str, Outcome, Loc]] = []
    end = t.end
    actual = {
        "reason": end.reason if end else MISSING,
        "sip_code": end.sip_code if end else MISSING,
        "hangup_cause": end.hangup_cause if end else MISSING,
        "target": end.target if end else MISSING,
        "detail": end.detail if end else MISSING,
        "duration_ms": end.t_ms if end else MISSING,
        "requests": len(t.requests),
    }
    for key in ("reason", "sip_code", "hangup_cause", "target", "detail", "duration_ms", "requests"):
        exp = getattr(spec, key)
        if exp is m.UNSET:
            continue
        loc = spec.locs.get(key, spec.loc)
        try:
            exp = substitute(exp, scope)
        except UnknownVariable as exc:
            out.append((key, Outcome("error", str(exc)), loc))
            continue
        mism = compare(exp, actual[key], path=f"end.{key}")
        if mism and isinstance(exp, Range):
            mism[0].why = "virtual milliseconds" if key == "duration_ms" else ""
        extra = f" ({end.reason}: {end.detail})" if end and key != "reason" and key != "detail" and mism else ""
        out.append((key, Outcome("failed" if mism else "passed",
                                 f"end.{key} is {show(actual[key])}{extra}", mism, to_jsonable(exp),
                                 None if actual[key] is MISSING else actual[key]), loc))
    budgets: list[tuple[str, float]] = []
    if spec.max_latency_ms is not None:
        budgets.append(("max_latency_ms", spec.max_latency_ms))
    if spec.max_latency_pct is not None:
        budgets.append(("max_latency_pct", timeout_ms * spec.max_latency_pct / 100.0))
    for key, budget in budgets:
        pct = spec.max_latency_pct if key == "max_latency_pct" else None
        out.append((key, _latency(t, budget, pct), spec.locs.get(key, spec.loc)))
    return out


def _budget(r: Any, budget: float, pct: float | None) -> float:
    """A request's budget: fixed, or ``pct`` of its own node's req_timeout_ms (nested pivots set their own)."""
    return r.timeout_ms * pct / 100.0 if pct is not None and r.timeout_ms else budget


def _latency(t: Transcript, budget: float, pct: float | None) -> Outcome:
    """``max_latency_ms``/``_pct``; a failure's headline names the first slow request and its own budget."""
    slow: list[Mismatch] = []
    first = None
    for r in t.requests:
        limit = _budget(r, budget, pct)
        if r.status is None and r.outcome in ("no_reply",) or r.elapsed_ms > limit:
            first = first or (r, limit)
            slow.append(Mismatch(f"requests[{r.index}]", f"<= {limit:g} ms",
                                 f"{r.elapsed_ms:.1f} ms" + (f" ({r.error})" if r.error else ""),
                                 f"{r.method} {r.url.split('?', 1)[0]}"))
    worst = max((r.elapsed_ms for r in t.requests), default=0.0)
    rule = f"{pct:g}% of each request's req_timeout_ms" if pct is not None else f"{budget:g} ms"
    if first is None:
        return Outcome("passed", f"every request within {rule}; slowest {worst:.1f} ms", [],
                       f"<= {rule}", round(worst, 3))
    r, limit = first
    share = f" ({pct:g}% of its node's req_timeout_ms {r.timeout_ms})" if pct is not None else ""
    more = f"; {len(slow) - 1} more over budget" if len(slow) > 1 else ""
    return Outcome("failed", f"request {r.index} ({r.method} {r.url.split('?', 1)[0]}) took {r.elapsed_ms:.1f} ms, "
                             f"over its budget of {limit:g} ms{share}{more}", slow, f"<= {rule}", round(worst, 3))


def run_scenario(scn: m.Scenario, *, variables: Mapping[str, Any] | None = None) -> ScenarioResult:
    """Run one scenario with a fresh :class:`Runner`."""
    return Runner(variables=variables).run(scn)


def run_scenarios(scenarios: Iterable[m.Scenario], **kw: Any) -> list[ScenarioResult]:
    return Runner(variables=kw.pop("variables", None)).run_all(scenarios, **kw)
