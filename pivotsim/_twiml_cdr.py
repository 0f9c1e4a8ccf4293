"""The CDR a ``pivot_call`` posts to ``cdr_url`` on CHANNEL_DESTROY (contract §1.9).

The body is the CHANNEL_DESTROY call event minus ``Custom-Channel-Vars`` and
the AMQP envelope, form-encoded like a Pivot request. Kazoo only posts it when
the ``pivot_call`` process is still alive when the channel goes away: TwiML
sessions, and first replies that stop without hanging up. The reply is ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._encoding import form_encode
from ._transcript import End
from ._transports import HTTPRequest, TransportError

if TYPE_CHECKING:
    from ._pivot import PivotSession

__all__ = ["Cdr", "arm", "disarm", "cdr_fields", "CALL_START_GREGORIAN_S"]

# The simulated call starts at 2026-01-01T00:00:00Z, in Gregorian seconds (Kazoo's clock).
CALL_START_GREGORIAN_S = 63_934_444_800

_SIP_FOR_CAUSE = {
    "NORMAL_CLEARING": 200,
    "SUCCESS": 200,
    "USER_BUSY": 486,
    "NO_ANSWER": 480,
    "CALL_REJECTED": 603,
    "UNALLOCATED_NUMBER": 404,
    "NORMAL_TEMPORARY_FAILURE": 503,
    "NO_ROUTE_DESTINATION": 503,
    "ORIGINATOR_CANCEL": 487,
}
_CAUSE_FOR_SIP = {
    486: "USER_BUSY",
    503: "NORMAL_TEMPORARY_FAILURE",
    404: "UNALLOCATED_NUMBER",
    480: "NO_USER_RESPONSE",
    603: "CALL_REJECTED",
    487: "ORIGINATOR_CANCEL",
}


class Cdr:
    """The CDR duty of one pivot session: posted by a finalizer unless pivot_call exited."""

    def __init__(self, session: PivotSession) -> None:
        self.session = session
        self.url = str(session.cdr_url)
        self.alive = True
        self.why_not = ""
        self.props = session.ctx.state.props  # the channel's caller id, not pivot_call's copy
        session.ctx.finalizers.append(self.post)

    def disarm(self, why: str) -> None:
        if self.alive:
            self.alive = False
            self.why_not = why

    def post(self, end: End) -> None:
        session = self.session
        ctx = session.ctx
        if not self.alive:
            ctx.event("cdr_not_posted", url=self.url, why=self.why_not)
            ctx.diag(
                "info",
                "cdr.not_posted",
                f"no CDR is posted to {self.url}: {self.why_not}, so nothing is left to post it when "
                "the channel is destroyed",
            )
            return
        destroy_ms = ctx.now  # the end was stamped now: the channel goes with it
        hang = ctx.clock.hangup_at_ms
        if end.reason == "dead_air" and hang is not None and hang > destroy_ms:
            # The caller hangs up in the silence, then CHANNEL_DESTROY and the CDR. The clock
            # is set, not waited on: the caller's hang-up deadline is this very moment, and
            # waiting would raise CallerHungUp. The transcript stays in time order.
            ctx.clock.now_ms = destroy_ms = hang
            ctx.event("channel_destroyed", why="the caller hung up in the silence",
                      silent_ms=destroy_ms - end.t_ms)
        fields = cdr_fields(ctx, end, destroy_ms, self.props)
        body = form_encode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        rec = session._record("cdr", "post", self.url, headers, body, None)
        ctx.event("request", index=rec.index, method="POST", url=self.url, purpose="cdr")
        try:
            resp = ctx.transport.handle(
                HTTPRequest("POST", self.url, headers, body, session.timeout_ms)
            )
        except TransportError as exc:
            rec.error = f"{exc.kind}: {exc}"
            rec.outcome = "no_reply"
            ctx.event(
                "response", index=rec.index, status=None, content_type=None, outcome="no_reply"
            )
            return
        rec.status = resp.status
        rec.response_headers.update(resp.headers)
        rec.content_type = resp.headers.get("content-type")
        rec.body_bytes = len(resp.body)
        rec.body = resp.body.decode("utf-8", "replace")[:4096]
        rec.elapsed_ms = round(resp.elapsed_ms, 3)
        rec.outcome = "ignored"
        ctx.event(
            "response",
            index=rec.index,
            status=resp.status,
            content_type=rec.content_type,
            outcome="ignored",
        )


def arm(session: PivotSession) -> Cdr | None:
    """Make sure this session posts its CDR (once); None without a cdr_url."""
    if not session.cdr_url:
        return None
    cdr = getattr(session, "_pivotsim_cdr", None)
    if cdr is None:
        cdr = Cdr(session)
        session._pivotsim_cdr = cdr  # type: ignore[attr-defined]
    return cdr


def disarm(session: PivotSession, why: str) -> None:
    cdr = getattr(session, "_pivotsim_cdr", None)
    if cdr is not None:
        cdr.disarm(why)


def _hangup_cause(end: End, answered: bool) -> str:
    if end.hangup_cause:
        return end.hangup_cause
    if end.reason == "sip_response" and end.sip_code:
        return _CAUSE_FOR_SIP.get(end.sip_code, "NORMAL_TEMPORARY_FAILURE")
    if end.reason in ("caller_hangup", "dead_air") and not answered:
        return "ORIGINATOR_CANCEL"
    return "NORMAL_CLEARING"


def cdr_fields(ctx: Any, end: End, destroy_ms: int, props: Any) -> dict[str, Any]:
    """The CHANNEL_DESTROY event fields Kazoo keeps in the CDR body."""
    answers = [e.t_ms for e in ctx.transcript.events if e.type == "answer"]
    answered_at = answers[0] if answers else None
    cause = _hangup_cause(end, answered_at is not None)
    code = end.sip_code or _SIP_FOR_CAUSE.get(cause, 503 if answered_at is None else 200)
    kvs = ctx.state.kvs
    fields: dict[str, Any] = {
        "Billing-Seconds": str(
            (destroy_ms - answered_at) // 1000 if answered_at is not None else 0
        ),
        "Call-Direction": "inbound",
        "Call-ID": props.call_id,
        "Callee-ID-Number": props.to_user,
        "Caller-ID-Name": props.caller_id_name or None,
        "Caller-ID-Number": props.caller_id_number or None,
        "Channel-Answer-State": "answered" if answered_at is not None else "ringing",
        "Channel-Call-State": "HANGUP",
        "Disposition": "ANSWER" if answered_at is not None else "NO ANSWER",
        "Duration-Seconds": str(destroy_ms // 1000),
        "From": f"{props.from_user}@{props.from_realm}",
        "Hangup-Cause": cause,
        "Hangup-Code": f"sip:{code}",
        "Other-Leg-Call-ID": kvs.get("dial_call_sid"),
        "Request": f"{props.request_user}@{props.request_realm}",
        "Ringing-Seconds": "0",
        "Timestamp": str(CALL_START_GREGORIAN_S + destroy_ms // 1000),
        "To": f"{props.to_user}@{props.to_realm}",
    }
    if ctx.state.cavs:
        fields["Custom-Application-Vars"] = dict(ctx.state.cavs)
    return {k: v for k, v in sorted(fields.items()) if v is not None}
