"""Python helpers behind the pytest fixtures ``pivotsim`` and ``pivot_server``.

``pivotsim.call(target, press=[...])`` places a call and returns a :class:`Call`:
its ``expect_*`` methods check the transcript in call order, exactly like the
steps of a scenario file, and raise ``AssertionError`` with the same report::

    def test_balance(pivotsim):
        call = pivotsim.call("pivotsim.examples.bank:app", press=["1234", "1"])
        call.expect_prompt(pivotsim.re("Hello Alice"))
        call.expect_request(path="/balance", params={"Custom-Application-Vars": {"customer_id": "c-1001"}})
        call.expect_end(reason="hangup")

``pivot_server`` (requests-mock, no server) answers with canned replies::

    def test_canned(pivot_server, pivotsim):
        pivot_server.reply("/", {"module": "tts", "data": {"text": "Hi"}})
        call = pivotsim.call(pivot_server.target)
        call.expect_prompt("Hi")
"""

from __future__ import annotations

import inspect
import json as _json
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .. import place_call
from .._caller import Caller
from .._render import render_text
from .._transcript import Transcript
from .expect import Checker, Outcome, nested_params, reply_view, request_view
from .loader import python_end, python_step
from .matchers import Absent, AnyValue, Range, Re, Type
from .source import Loc, Problem, SourceError

__all__ = ["Pivotsim", "Call", "PivotServer", "ReceivedRequest"]


def _caller_loc() -> Loc:
    """Where the test called us: the first frame outside this module."""
    frame = inspect.currentframe()
    here = __file__
    while frame is not None and frame.f_code.co_filename == here:
        frame = frame.f_back
    if frame is None:  # pragma: no cover
        return Loc("<python>", 1, 1)
    return Loc(frame.f_code.co_filename, frame.f_lineno, 1)


def _fail(out: Outcome, loc: Loc, what: str) -> AssertionError:
    from .reporters.failure import focused_diff

    lines = [f"{what}: {out.message}"]
    lines += [f"  {mm.describe()}" for mm in out.mismatches[:20]]
    diff = focused_diff(out.expected, out.actual) if out.expected is not None else []
    if diff:
        lines.append("diff (- expected, + actual):")
        lines += ["  " + ln for ln in diff[:60]]
    return AssertionError("\n".join(lines))


class Call:
    """A finished call: its transcript, and ordered expectations on it.

    Each ``expect_*`` looks at the next item of its kind after the one the previous
    expectation matched, like the steps of a scenario; it returns what it matched
    (a request, a reply, a prompt's text, ...) for further checks.
    """

    def __init__(self, transcript: Transcript, *, strict: bool = False) -> None:
        self.transcript = transcript
        self._checker = Checker(transcript, strict=strict)

    # -- plain data -------------------------------------------------------------------------
    @property
    def requests(self) -> list[dict[str, Any]]:
        return [request_view(r) for r in self.transcript.requests]

    @property
    def replies(self) -> list[dict[str, Any]]:
        return [reply_view(r) for r in self.transcript.requests]

    @property
    def prompts(self) -> list[str]:
        return self.transcript.prompts

    @property
    def cavs(self) -> dict[str, Any]:
        return self.transcript.cavs

    @property
    def end(self) -> Any:
        return self.transcript.end

    @property
    def text(self) -> str:
        return render_text(self.transcript)

    def __repr__(self) -> str:
        end = self.transcript.end
        return f"<Call {len(self.transcript.requests)} requests, ended {end.reason if end else '?'}>"

    def rewind(self) -> Call:
        """Start the ordered expectations again from the beginning of the call."""
        self._checker.cursor = -1
        self._checker.current_request = None
        return self

    # -- expectations ---------------------------------------------------------------------------
    def _expect(self, kind: str, value: Any) -> Any:
        __tracebackhide__ = True
        loc = _caller_loc()
        try:
            step = python_step(kind, value, loc)
        except ValueError as exc:
            raise TypeError(f"expect_{kind}: {exc}") from None
        out = self._checker.check(step, {})
        if not out.ok:
            raise _fail(out, loc, f"expect_{kind}")
        return out.matched if out.matched is not None else out.actual

    @staticmethod
    def _one(value: Any, fields: dict[str, Any], kind: str) -> Any:
        if value is not None and fields:
            raise TypeError(f"expect_{kind}: give a value or fields, not both")
        return value if value is not None else fields

    def expect_request(self, **fields: Any) -> Any:
        """The next request: method, url, path, params, headers, body_format, purpose, strict."""
        __tracebackhide__ = True
        return self._expect("request", fields)

    def expect_reply(self, **fields: Any) -> Any:
        """The reply to the last expected request: status, content_type, outcome, json, twiml, body, headers."""
        __tracebackhide__ = True
        return self._expect("reply", fields)

    def expect_prompt(self, heard: Any = None, **fields: Any) -> Any:
        """The next prompt: its text (or media id), or fields text, media, source, duration_ms."""
        __tracebackhide__ = True
        return self._expect("prompt", self._one(heard, fields, "prompt"))

    def expect_cavs(self, values: Mapping[str, Any] | None = None, **more: Any) -> Any:
        """Custom Application Vars the call holds here or later."""
        __tracebackhide__ = True
        return self._expect("cavs", {**(values or {}), **more})

    def expect_collected(self, digits: Any = None, **fields: Any) -> Any:
        """The next collect_dtmf result: digits, or fields collection, digits, how."""
        __tracebackhide__ = True
        return self._expect("collected", self._one(digits, fields, "collected"))

    def expect_branch(self, key: Any = None, **fields: Any) -> Any:
        """The next child taken other than ``_`` (a menu choice, a failure cause)."""
        __tracebackhide__ = True
        return self._expect("branch", self._one(key, fields, "branch"))

    def expect_bridge(self, target: Any = None, **fields: Any) -> Any:
        """The next ring attempt: target, or fields target, answered, cause, code."""
        __tracebackhide__ = True
        return self._expect("bridge", self._one(target, fields, "bridge"))

    def expect_handoff(self, target: Any = None, **fields: Any) -> Any:
        """The next transfer, voicemail, conference or park: target, or fields to, target."""
        __tracebackhide__ = True
        return self._expect("handoff", self._one(target, fields, "handoff"))

    def expect_diagnostic(self, code: Any = None, **fields: Any) -> Any:
        """A diagnostic from here on: its code, or fields level, code, message, path."""
        __tracebackhide__ = True
        return self._expect("diagnostic", self._one(code, fields, "diagnostic"))

    def expect_no_diagnostic(self, code: Any = None, **fields: Any) -> Any:
        """No diagnostic in the whole call matches (e.g. ``level="error"``)."""
        return self._expect("no_diagnostic", self._one(code, fields, "no_diagnostic"))

    def expect_event(self, type: str, **fields: Any) -> Any:
        """The next transcript event of ``type`` with these fields."""
        __tracebackhide__ = True
        return self._expect("event", {"type": type, **fields})

    def expect_end(self, **fields: Any) -> Any:
        """How the call ended: reason, sip_code, hangup_cause, target, detail, duration_ms, requests,
        max_latency_ms, max_latency_pct (of ``timeout_ms``, default 5000)."""
        __tracebackhide__ = True
        __tracebackhide__ = True
        from .runner import end_checks

        loc = _caller_loc()
        timeout = int(fields.pop("timeout_ms", 5000))
        try:
            spec = python_end(fields, loc)
        except ValueError as exc:
            raise TypeError(f"expect_end: {exc}") from None
        for key, out, _ in end_checks(spec, self.transcript, {}, timeout_ms=timeout):
            if not out.ok:
                raise _fail(out, loc, f"expect_end({key})")
        return self.transcript.end

    def check(self, steps_yaml: str) -> Call:
        """Check expectation steps written as in a scenario file (a YAML list)."""
        __tracebackhide__ = True
        from .loader import load_text

        loc = _caller_loc()
        text, where = _snippet(steps_yaml, loc)
        try:
            scn = load_text(text, loc.file)[0]
        except SourceError as exc:  # a bad step: a clean failure at its line in the test file
            raise AssertionError("check(): the steps do not load\n"
                                 + "\n".join(str(where(p)) for p in exc.problems)) from None
        for step in scn.steps:
            if step.kind in ("press", "type_ahead", "silence", "hangup", "wait"):
                raise TypeError("check() takes expectations only; give caller actions to pivotsim.call(press=...)")
            out = self._checker.check(step, {})
            if not out.ok:
                raise _fail(out, loc, f"{step.kind} at {where(Problem(step.loc, '')).loc}")
        return self


_HEADER = "scenario: inline\ntarget: unused:unused\nsteps:\n"


def _snippet(steps_yaml: str, loc: Loc) -> tuple[str, Callable[[Problem], Problem]]:
    """The steps as a scenario document, and a map from its places to the test file's.

    ``loc`` is the line of the ``check(`` call, where the string literal starts; the
    snippet is dedented and indented by two, so columns shift by the difference.
    """
    lead = len(steps_yaml) - len(steps_yaml.lstrip("\n"))
    body = textwrap.dedent(steps_yaml).strip("\n")
    lines = body.splitlines()
    raw = steps_yaml.strip("\n").splitlines()
    indent = len(raw[0]) - len(lines[0]) if raw and lines else 0
    header = _HEADER.count("\n")

    def where(p: Problem) -> Problem:
        if p.loc is None or p.loc.file != loc.file or p.loc.line <= header:
            return p
        line = loc.line + lead + (p.loc.line - header) - 1
        return Problem(Loc(loc.file, line, max(1, p.loc.col - 2 + indent)), p.message)

    return _HEADER + "\n".join("  " + ln for ln in lines), where


class Pivotsim:
    """The ``pivotsim`` fixture: place calls, get :class:`Call` objects, build matchers."""

    re = staticmethod(Re)
    type = staticmethod(Type)
    absent = Absent()
    any = AnyValue()

    @staticmethod
    def range(min: float | None = None, max: float | None = None) -> Range:
        return Range(min, max)

    def call(self, target: Any, *, press: Iterable[Any] = (), hangup_after_ms: int | None = None,
             strict: bool = False, **kwargs: Any) -> Call:
        """Place a call (``pivotsim.place_call`` keywords) and return a :class:`Call`.

        ``press`` is the caller's script: digit strings for input points, ``""`` for
        silence, or ``pivotsim.Press/TypeAhead/Silence/Hangup`` objects. ``call`` may be
        a mapping shaped like a scenario's ``call:`` (``{"caller_id_name": ..., "cavs": ...}``).
        """
        if isinstance(kwargs.get("call"), Mapping):
            from .runner import call_properties

            kwargs["call"] = call_properties(kwargs["call"])
        if "caller" not in kwargs:
            kwargs["caller"] = Caller(list(press), hangup_after_ms=hangup_after_ms)
        elif press:
            raise TypeError("give press= or caller=, not both")
        return Call(place_call(target, **kwargs), strict=strict)

    def transcript(self, transcript: Transcript, *, strict: bool = False) -> Call:
        """Wrap a transcript you already have."""
        return Call(transcript, strict=strict)


class ReceivedRequest:
    """A request the canned server received, with its parameters decoded as a server would."""

    def __init__(self, req: Any) -> None:
        self.method: str = req.method
        self.url: str = req.url
        self.path: str = req.path
        self.headers: dict[str, str] = dict(req.headers)
        body = req.body or b""
        self.body: str = body.decode() if isinstance(body, bytes) else str(body)
        from .._encoding import form_decode

        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            self.params: Any = _json.loads(self.body or "null")
        else:
            query = req.url.split("?", 1)[1] if "?" in req.url else ""
            pairs = form_decode(query) + (form_decode(self.body) if self.method != "GET" else [])
            self.params = nested_params(pairs)

    def __repr__(self) -> str:
        return f"<ReceivedRequest {self.method} {self.path}>"


class PivotServer:
    """Canned Pivot replies without a server, on requests-mock.

    ``reply(path, body)`` answers requests for ``path`` (any method, any query):
    a dict or list is sent as JSON, a string starting with ``<`` as TwiML
    (``text/xml``). Give several bodies to answer successive requests in turn;
    the last one repeats. Unknown paths get a 404, as a real server would.
    ``target`` is the URL to give ``place_call`` (``url(path)`` for another path).
    """

    base_url = "http://pivot.test"

    def __init__(self, base_url: str | None = None) -> None:
        import requests_mock

        self.base_url = (base_url or self.base_url).rstrip("/")
        self._rm = requests_mock
        self._mocker = requests_mock.Mocker()
        self._started = False

    def __enter__(self) -> PivotServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        if not self._started:
            self._mocker.start()
            self._started = True
            self._mocker.register_uri(self._rm.ANY, re.compile(re.escape(self.base_url) + r"(/.*)?$"),
                                      status_code=404, headers={"Content-Type": "text/plain"},
                                      text="pivot_server: no reply registered for this path")

    def stop(self) -> None:
        if self._started:
            self._mocker.stop()
            self._started = False

    @property
    def target(self) -> str:
        return self.url("/")

    def url(self, path: str = "/") -> str:
        return self.base_url + "/" + path.lstrip("/")

    def reply(self, path: str, *bodies: Any, status: int = 200, headers: Mapping[str, str] | None = None,
              content_type: str | None = None, method: str = "ANY") -> PivotServer:
        """Register the reply (or replies, in turn) for ``path``."""
        if not bodies:
            raise TypeError("reply(path, body, ...) needs at least one body")
        responses = [self._response(b, status, headers, content_type) for b in bodies]
        verb = self._rm.ANY if method.upper() == "ANY" else method.upper()
        self._mocker.register_uri(verb, re.compile(re.escape(self.url(path)) + r"(\?.*)?$"), responses)
        return self

    @staticmethod
    def _response(body: Any, status: int, headers: Mapping[str, str] | None,
                  content_type: str | None) -> dict[str, Any]:
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            text = _json.dumps(body)
            ctype = content_type or "application/json"
        elif isinstance(body, str):
            text = body
            ctype = content_type or ("text/xml" if body.lstrip().startswith("<") else "application/json")
        elif isinstance(body, bytes):
            return {"content": body, "status_code": status, "headers": hdrs}
        else:
            raise TypeError(f"a reply body is a dict, list, str or bytes, not {type(body).__name__}")
        hdrs.setdefault("Content-Type", ctype)
        return {"text": text, "status_code": status, "headers": hdrs}

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received, in order."""
        return [ReceivedRequest(r) for r in self._mocker.request_history]

    def call(self, path: str = "/", *, press: Sequence[Any] = (), **kwargs: Any) -> Call:
        """Place a call whose voice_url is ``path`` on this server."""
        return Pivotsim().call(self.url(path), press=press, **kwargs)
