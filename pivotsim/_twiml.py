"""Kazoo's TwiML runtime: one ``pivot_call`` process looping request -> verbs -> request.

``recognize`` is kzt_twiml:parse_cmds (xmerl parses it and the root is
``<Response>``). ``run_session`` takes over once the first reply of a pivot
node is TwiML (cf_pivot has already stopped waiting) and plays the documents
the server sends until the document ends, the call ends, or a follow-up reply
hands the call back to callflow as Kazoo JSON (contract §4, §2.2-2.3, §1.9).
Every follow-up reply goes through the same Content-Type dispatch as the first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _twiml_cdr
from ._flow import Exit, HardStop, Next, Replace
from ._twiml_verbs import (
    Endless,
    Ok,
    Request,
    Stop,
    TwimlError,
    TwimlRun,
    exec_element,
)
from ._twiml_xml import Element, parse

if TYPE_CHECKING:
    from ._pivot import PivotSession, Reply
    from ._transcript import RequestRecord

__all__ = ["recognize", "run_session", "signature_hint"]


def recognize(text: str) -> tuple[Any, str]:
    """``(root, "")`` when xmerl would parse a ``<Response>``, else ``(None, why)``."""
    root, why = parse(text)
    if root is None:
        return None, why
    if root.tag != "Response":
        return None, f"its root element is <{root.tag}>, not <Response>"
    return root, ""


def signature_hint(rec: RequestRecord) -> tuple[str, str]:
    """``(level, message)`` when a 401/403 reply may be Twilio request validation, else ``("", "")``.

    Twilio's documented ``validate_twilio_request`` decorator answers a bare ``abort(403)``,
    whose page names neither a signature nor Twilio, so every 401/403 gets the hint: a
    warning when the body says so, info otherwise (the refusal itself is already reported;
    the hint is the likely cause, not a certain one).
    """
    if rec.status not in (401, 403):
        return "", ""
    body = (rec.body or "").lower()
    mentions = "signature" if "signature" in body else "Twilio" if "twilio" in body else ""
    why = (
        f"its reply mentions a {mentions}"
        if mentions
        else "which is what Twilio request validation answers"
    )
    return ("warning" if mentions else "info"), (
        f"the server answered HTTP {rec.status}, {why}: Kazoo sends no X-Twilio-Signature "
        "(nor any auth header), so if your app validates Twilio signatures it rejects every "
        "Kazoo request. Turn validation off for Kazoo, or check a secret in the URL's path instead "
        "(a query string on the voice_url would break relative actions on Kazoo: make them absolute)"
    )


def _hint_signature(session: PivotSession, rec: RequestRecord) -> None:
    level, hint = signature_hint(rec)
    if hint:
        session.ctx.diag(level, "twiml.no_twilio_signature", hint, request=rec.index)


class _EndOfDocument:
    pass


class _EmptyResponse:
    pass


def _element_paths(root: Element, prefix: str) -> list[tuple[Element, str]]:
    counts: dict[str, int] = {}
    out = []
    for el in root.elements():
        counts[el.tag] = counts.get(el.tag, 0) + 1
        out.append((el, f"{prefix}/{el.tag}[{counts[el.tag]}]"))
    return out


def _exec_document(run: TwimlRun, root: Element, index: int) -> Any:
    """kzt_twiml:exec/2 on one document: the verbs in order, until one does not say ok."""
    ctx = run.ctx
    if not root.children:
        return _EmptyResponse()
    if root.trailing.strip():
        snippet = root.trailing.strip()[:60]
        ctx.diag(
            "info",
            "twiml.trailing_content",
            f"the reply has content after </Response> ({snippet!r}); Kazoo's xmerl stops at the end "
            "of the root element and ignores it",
        )
    for el, path in _element_paths(root, f"reply[{index}]/Response"):
        ctx.node_path = path
        try:
            res = exec_element(run, el)
        except TwimlError as exc:
            ctx.diag("error", exc.code, exc.message, path=path)
            ctx.event("twiml_error", code=exc.code, path=path)
            return exc
        if isinstance(res, Ok):
            continue
        return res
    return _EndOfDocument()


class _Session:
    def __init__(self, session: PivotSession) -> None:
        self.session = session
        self.ctx = session.ctx
        self.run = TwimlRun(session)
        self.cdr = _twiml_cdr.arm(session)
        self.index = 0

    # -- how pivot_call ends -----------------------------------------------------------------
    def pivot_stop(self, why: str, detail: str) -> Next:
        """``{stop, Call}``: pivot_call hangs up, unless a cdr_url is set (🟥)."""
        ctx = self.ctx
        if self.session.cdr_url:
            if ctx.options.faithful:
                ctx.diag(
                    "warning",
                    "twiml.cdr_url_keeps_call_up",
                    f"{why}: with a cdr_url set, pivot_call ignores its stop and never hangs up; the "
                    "caller is left in silence until they hang up (a Kazoo bug)",
                )
                return Exit(ctx.end("dead_air", f"{detail}; with a cdr_url Kazoo does not hang up"))
            ctx.event("intended_behaviour", what="stop hangs up even with a cdr_url")
        return HardStop(ctx.end("hangup", detail, hangup_cause="NORMAL_CLEARING"))

    def dead_air(self, detail: str, *, exits: str = "") -> Next:
        """pivot_call is gone (or idle) and callflow stopped waiting: nobody ends the call."""
        if exits:
            _twiml_cdr.disarm(self.session, exits)
        return Exit(self.ctx.end("dead_air", detail))

    # -- the loop ----------------------------------------------------------------------------
    def run_doc(self, root: Element, index: int) -> Next | Element:
        ctx = self.ctx
        run = self.run
        res = _exec_document(run, root, index)
        if isinstance(res, Request):
            return self.follow(res)
        if isinstance(res, Stop):
            if res.end is not None:
                return HardStop(res.end)
            return self.pivot_stop(res.why, f"Kazoo stopped the TwiML: {res.why}")
        if isinstance(res, TwimlError):
            return self.pivot_stop(f"the TwiML failed ({res.code})", f"TwiML error: {res.message}")
        if isinstance(res, _EmptyResponse):
            if not ctx.options.faithful:
                ctx.event("intended_behaviour", what="an empty <Response/> hangs up")
                return HardStop(
                    ctx.end("hangup", "an empty <Response/>", hangup_cause="NORMAL_CLEARING")
                )
            ctx.diag(
                "error",
                "twiml.empty_response",
                "an empty <Response/> crashes Kazoo's TwiML worker (kz_xml:filter_empty_text has no "
                "clause for an empty list) after pivot.processing was sent: nobody hangs up, the caller "
                "hears dead air. Put at least <Hangup/> in it",
            )
            return self.dead_air(
                "an empty <Response/> crashed Kazoo's TwiML worker",
                exits="the TwiML worker crashed and pivot_call exited",
            )
        assert isinstance(res, _EndOfDocument)
        return self.pivot_stop("the TwiML document ended", "the TwiML document ended")

    def follow(self, req: Request) -> Next | Element:
        """pivot_call's next request, and the reply through kzt_translator again."""
        ctx = self.ctx
        session = self.session
        run = self.run
        kvs = ctx.state.kvs
        if (
            kvs.get("digit_pressed") is not None
            and req.verb == "Gather"
            and kvs.get("digits_collected")
        ):
            ctx.diag(
                "warning",
                "twiml.record_digits_stick",
                f"this request carries Digits={kvs['digit_pressed']!r} from an earlier <Record>, not the "
                f"Gather's {kvs['digits_collected']!r}: Kazoo never clears the Record terminator, so it "
                "hides every later Gather's digits in this session (a Kazoo bug)",
            )
        if (
            kvs.get("digit_pressed") is not None
            and not ctx.options.faithful
            and req.verb != "Record"
        ):
            ctx.event("intended_behaviour", what="the Record terminator is sent once")
            kvs.pop("digit_pressed", None)
        session.iteration += 1
        run.voice_uri = req.url
        reply = session.request(req.url, req.method, req.purpose)
        rec = reply.record
        _hint_signature(session, rec)
        if req.then_end is not None:
            ctx.event(
                "reply_unused",
                request=rec.index,
                why="the call was already over when Kazoo sent this request",
            )
            return HardStop(req.then_end)
        return self.on_reply(reply, req)

    def on_reply(self, reply: Reply, req: Request) -> Next | Element:
        ctx = self.ctx
        rec = reply.record
        k = reply.kind
        # The URL's story is told once, in the twiml.url_resolution warning before this request.
        where = " (a URL Kazoo resolved differently from Twilio: see twiml.url_resolution)" \
            if self.run.last_url_notes else ""
        if k == "twiml":
            self.index = rec.index
            return reply.doc
        if k == "kazoo":
            if reply.detail:
                ctx.diag("info", "reply.content_type", reply.detail, request=rec.index)
            _twiml_cdr.disarm(
                self.session, "the reply handed the call back to callflow (pivot_call exits)"
            )
            ctx.event(
                "handoff",
                to="callflow",
                request=rec.index,
                note="a TwiML follow-up answered with Kazoo JSON: kzt_kazoo publishes CHANNEL_PIVOT",
            )
            nxt = self.session.run_kazoo(reply)
            if isinstance(nxt, Replace):
                # callflow runs the new flow with its own copy of the call: what the TwiML session
                # changed (Set vars, CallStatus, Digits, Record and Dial results) stays behind.
                self.run.restore_callflow_copy()
                ctx.diag(
                    "info",
                    "twiml.to_kazoo_json",
                    "the TwiML session handed the call to callflow with a Kazoo JSON reply: callflow "
                    "replaces its flow and runs it with its own copy of the call, so the TwiML "
                    "session's <Set> variables, CallStatus and Digits are not carried over",
                    request=rec.index,
                )
            return nxt
        if k == "http_status":
            ctx.diag(
                "error",
                "twiml.follow_up_failed",
                f"{reply.detail} for a TwiML follow-up{where}: pivot_call publishes pivot.failed to "
                "nobody (cf_pivot stopped waiting after the first reply) and exits without hanging up; "
                "the caller hears dead air",
                request=rec.index,
            )
            return self.dead_air(
                f"the TwiML follow-up {req.method.upper()} {req.url} got HTTP {rec.status}",
                exits="pivot_call exited after the failed follow-up request",
            )
        if k == "invalid_url":
            ctx.diag(
                "error",
                "twiml.follow_up_failed",
                f"httpc rejects the follow-up URL {req.url!r}{where}: pivot_call exits without hanging "
                "up; the caller hears dead air",
                request=rec.index,
            )
            return self.dead_air(
                f"invalid follow-up URL {req.url}",
                exits="pivot_call exited after the invalid follow-up URL",
            )
        if k == "not_sent":
            ctx.diag(
                "error",
                "twiml.follow_up_failed",
                f"{reply.detail}: pivot_call crashes; the caller hears dead air",
                request=rec.index,
            )
            return self.dead_air(
                "the follow-up request could not be encoded",
                exits="pivot_call crashed building the request",
            )
        if k in ("no_reply", "silent"):
            ctx.diag(
                "error",
                "twiml.follow_up_failed",
                f"the TwiML follow-up got no usable reply ({rec.error or reply.detail}): pivot_call only "
                "logs it and waits forever; the caller hears dead air",
                request=rec.index,
            )
            return self.dead_air(f"the TwiML follow-up to {req.url} got no reply")
        if k in ("empty", "json_error"):
            if k == "json_error":
                rec.json_errors = True
            msg = reply.detail if k == "json_error" else "an empty 200 reply"
            ctx.diag("error", f"reply.{k}", f"{msg} (TwiML follow-up)", request=rec.index)
            return self.pivot_stop(msg, f"Kazoo stopped: {msg}")
        if k == "not_recognized":
            ctx.diag(
                "error",
                "reply.not_recognized",
                f"{reply.detail} (TwiML follow-up): pivot.failed goes to nobody and pivot_call stops",
                request=rec.index,
            )
            return self.pivot_stop(
                "the follow-up reply was not recognised", f"Kazoo stopped: {reply.detail}"
            )
        raise AssertionError(k)  # pragma: no cover


def run_session(session: PivotSession, reply: Reply) -> Next:
    """Run a TwiML session from its first reply; returns what cf_exe does next."""
    ctx = session.ctx
    s = _Session(session)
    root = reply.doc
    index = reply.record.index
    ctx.event(
        "twiml_session", request=index, req_format=session.req_format, cdr_url=session.cdr_url
    )
    pivot_path = ctx.node_path
    try:
        while True:
            ctx.steps += 1
            if ctx.steps > ctx.options.max_steps:
                ctx.diag(
                    "error",
                    "pivotsim.step_limit",
                    f"the call ran {ctx.options.max_steps} steps without ending (a Redirect loop?); "
                    "raise --max-steps if this is intended",
                )
                return HardStop(
                    ctx.end("step_limit", f"stopped after {ctx.options.max_steps} steps")
                )
            nxt = s.run_doc(root, index)
            if isinstance(nxt, Element):
                root, index = nxt, s.index
                continue
            return nxt
    except Endless as exc:
        ctx.diag("error", "twiml.endless_loop", f"{exc}: pivotsim stops the call here")
        return HardStop(ctx.end("step_limit", str(exc)))
    finally:
        if ctx.node_path.startswith("reply["):
            ctx.node_path = pivot_path


def first_reply_hook(session: PivotSession, reply: Reply) -> None:
    """Called by cf_pivot's view of every first reply, whatever its kind.

    A ``pivot_call`` that survives its first reply (it stops without hanging up,
    or it waits for a reply that never comes) still posts the CDR when the
    channel goes; one that exits (HTTP error, Kazoo JSON) does not.
    """
    rec = reply.record
    _hint_signature(session, rec)
    if not session.cdr_url or reply.kind not in (
        "no_reply",
        "silent",
        "empty",
        "json_error",
        "not_recognized",
    ):
        return
    opts = session.ctx.options
    if (
        reply.kind == "no_reply"
        and opts.connect_error == "failed"
        and rec.error
        and rec.error.split(":")[0] in ("connect", "dns")
    ):
        return
    _twiml_cdr.arm(session)
