"""<Dial> as kzt_twiml_dial and kzt_receiver run it (contract §4.5).

Three shapes: a number in the text (or a lone ``<Number>``) goes offnet through
stepswitch and the caller stays up afterwards; several nouns, ``<User>``,
``<Device>`` or ``<Sip>`` are bridged directly, and when that bridge ends
Kazoo hangs up the caller too; ``<Conference>`` hands the call over, and
``<Queue>`` is unsupported. Outcomes come from the fixtures, keyed
``offnet:<E.164>``, ``user:<id>``, ``device:<id>`` and ``sip:<uri>``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ._caller import Press, TypeAhead
from ._context import ALL_DIGITS
from ._fixtures import BridgeOutcome
from ._transcript import End
from ._twiml_verbs import (
    OK,
    Element,
    Outcome,
    Request,
    Stop,
    TwimlError,
    TwimlRun,
    int_attr,
    is_true,
    timeout_s,
)
from ._twiml_xml import Text
from ._urls import MethodError, http_method, texts_trim

__all__ = ["dial", "normalize_number", "call_status_for"]

# knm_converters' default e164_converters (system_config number_manager).
_E164 = (
    (re.compile(r"^\+?1?([2-9][0-9]{2}[2-9][0-9]{6})$"), "+1"),
    (re.compile(r"^011(\d*)$|^00(\d*)$"), "+"),
    (re.compile(r"^([2-9]\d{7,})$"), "+"),
)
_RANG = ("NO_ANSWER", "USER_BUSY", "CALL_REJECTED", "ORIGINATOR_CANCEL")


def normalize_number(number: str) -> str:
    """knm_converters:normalize with the stock converters; anything else is kept as it is."""
    if number.startswith("+"):
        return number
    for regex, prefix in _E164:
        m = regex.match(number)
        if m:
            return prefix + next(g for g in m.groups() if g is not None)
    return number


def call_status_for(cause: str) -> str:
    """kzt_receiver:call_status/1."""
    if cause in ("ORIGINATOR_CANCEL", "NORMAL_CLEARING", "SUCCESS"):
        return "completed"
    if cause == "NO_ANSWER":
        return "no-answer"
    if cause in ("USER_BUSY", "CALL_REJECTED"):
        return "busy"
    return "failed"


def _cleanup(text: str) -> str:
    """cleanup_dial_me: keep digits and '+' only."""
    return "".join(c for c in text if c.isdigit() and c.isascii() or c == "+")


def _texts(content: list[Any]) -> str:
    return texts_trim("".join(c.value for c in content if isinstance(c, Text) and not c.cdata))


class _Setup:
    """setup_call_for_dial: the Dial attributes every shape reads (and may crash on)."""

    def __init__(self, run: TwimlRun, el: Element) -> None:
        ctx = run.ctx
        self.caller_id = el.attrs.get("callerId")
        self.call_timeout = timeout_s(el, 30)
        limit = int_attr(el, "timeLimit", 14400)
        assert limit is not None
        self.time_limit = limit
        self.record = el.attrs.get("record") == "true"
        self.hangup_dtmf: str | None = None
        star = el.attrs.get("hangupOnStar")
        if star is not None and ctx.options.faithful:
            run.diag(
                "warning",
                "twiml.dial_hangup_on_star",
                f'<Dial hangupOnStar="{star}"> is ignored by Kazoo: it compares the attribute '
                'with the atom true, but xmerl gives a string (a Kazoo bug). Use hangupOn="*"',
            )
        elif star == "true":
            self.hangup_dtmf = "*"
        if self.hangup_dtmf is None:
            on = el.attrs.get("hangupOn")
            self.hangup_dtmf = on if on in ALL_DIGITS else None
        if self.caller_id is not None:
            props = ctx.state.props
            if self.caller_id != props.caller_id_number:
                from dataclasses import replace

                ctx.state.props = replace(props, caller_id_number=self.caller_id)
                run.diag(
                    "info",
                    "twiml.dial_caller_id",
                    f'<Dial callerId="{self.caller_id}"> also changes the caller id pivot_call keeps '
                    "for this session: later requests send it as CallerNumber",
                )
        if self.record:
            ctx.event("dial_record", note="Kazoo records the bridged call (media processing on)")


def dial(run: TwimlRun, el: Element) -> Outcome:
    if not el.children:
        raise TwimlError(
            "twiml.dial_empty",
            "<Dial/> is empty: kz_xml:filter_empty_text([]) has no clause, so Kazoo crashes",
        )
    content = [
        c for c in el.children if not (isinstance(c, Text) and not c.cdata and c.value == " ")
    ]
    return _exec(run, el, content)


def _force_outbound(run: TwimlRun, el: Element, target: str) -> bool:
    """force_outbound/1: ``continueOnFail`` (default true) is the offnet request's Force-Outbound.

    Kazoo forces the number offnet so that the B-leg's failure comes back to the TwiML; only the
    exact string "true" is true (kz_term:is_true), so "True" or "1" turn it off.
    """
    force = is_true(el, "continueOnFail", True)
    if not force:
        run.diag(
            "info",
            "twiml.dial_continue_on_fail",
            f'<Dial continueOnFail="{el.attrs["continueOnFail"]}"> sends the number to stepswitch '
            "with Force-Outbound false: if it is one of the system's own numbers, Kazoo routes it "
            "on-net, the call id is redirected and callflow (or trunkstore) may hang up the caller "
            "instead of coming back to the TwiML. pivotsim has no number database: it dials "
            f"{target} with its offnet fixture outcome, as for a number Kazoo does not own. "
            "(continueOnFail is a Kazoo attribute, not Twilio's; only the exact string \"true\" "
            "is true)",
        )
    return force


def _note_continue_on_fail_unused(run: TwimlRun, el: Element, shape: str) -> None:
    if "continueOnFail" in el.attrs:
        run.diag(
            "info",
            "twiml.ignored_attribute",
            f'<Dial continueOnFail="{el.attrs["continueOnFail"]}"> is only read when Kazoo dials a '
            f"number offnet; a Dial to {shape} ignores it",
        )


def _noun_method(noun: Element, when: str = "") -> None:
    """kzt_util:http_method on the noun's attributes: the value is unused, but PUT crashes."""
    try:
        http_method(noun.attrs.get("method"))
    except MethodError as exc:
        raise TwimlError(
            "twiml.bad_method",
            f"<{noun.tag}> {exc}: kzt_twiml_dial evaluates the method of a <{noun.tag}> although it "
            f"never uses it{when}",
        ) from None


def _exec(run: TwimlRun, el: Element, content: list[Any]) -> Outcome:
    ctx = run.ctx
    if content and isinstance(content[0], Text) and not content[0].cdata:
        ctx.answer()
        raw = _texts(content)
        number = _cleanup(raw)
        if not number:
            return _exec(run, el, [c for c in content if isinstance(c, Element)])
        if number != raw:
            run.diag(
                "info",
                "twiml.dial_number_cleaned",
                f"Kazoo keeps only digits and '+' of {raw!r}: it dials {number!r}",
            )
        return _offnet(run, el, normalize_number(number))
    if len(content) == 1 and isinstance(content[0], Element):
        noun = content[0]
        if noun.tag == "Number":
            number = _cleanup(noun.text())
            if not number:
                run.diag(
                    "warning",
                    "twiml.dial_no_number",
                    "<Number> has nothing to dial: Kazoo skips the Dial and runs the next verb",
                )
                return OK
            ignored = [
                a for a in ("sendDigits", "url", "method", "statusCallback") if a in noun.attrs
            ]
            if ignored:
                run.diag(
                    "info",
                    "twiml.ignored_attribute",
                    f"<Number> {', '.join(ignored)}: Kazoo parses but ignores them",
                )
            return _offnet(run, el, normalize_number(number))
        if noun.tag == "Conference":
            return _conference(run, el, noun)
        if noun.tag == "Queue":
            return _queue(run, el, noun)
    if content and isinstance(content[0], Element):
        return _endpoints(run, el, content)
    raise TwimlError(
        "twiml.dial_empty",
        "<Dial> has nothing Kazoo can dial (no number and no noun): kzt_twiml_dial:exec has no "
        "clause for it, so Kazoo crashes",
    )


def _end_dial(run: TwimlRun, el: Element, then_end: End | None) -> Outcome:
    """maybe_end_dial: with an action, request it; without, the next verb."""
    if "action" not in el.attrs:
        return Stop(then_end) if then_end is not None else OK
    url = run.resolve(el, el.attrs.get("action"), "action")
    return Request(url, run.method(el), "twiml_action", "Dial", then_end=then_end)


# -- a number, offnet -----------------------------------------------------------------------
def _offnet(run: TwimlRun, el: Element, number: str) -> Outcome:
    ctx = run.ctx
    kvs = ctx.state.kvs
    setup = _Setup(run, el)
    target = f"offnet:{number}"
    force = _force_outbound(run, el, target)
    outcome = ctx.fixtures.outcome(target, "offnet")
    ctx.event(
        "bridge_attempt",
        target=target,
        timeout_s=setup.call_timeout,
        via="offnet",
        force_outbound=force,
    )
    run.set_call_status("ringing")
    kvs["digits_collected"] = ""  # wait_for_offnet clears the digits: the action gets Digits=""
    limit_ms = setup.call_timeout * 1000
    if outcome.answered and outcome.ring_ms < limit_ms:
        bleg = run.b_leg_id()
        kvs.update(dial_call_sid=bleg, dial_call_status="ringing")
        ctx.wait(outcome.ring_ms)
        kvs.update(call_status="in-progress", dial_call_status="in-progress")
        ctx.event("bridged", target=target, b_leg=bleg)
        hung = _talk(run, setup, outcome, target)
        if hung is not None:
            return _end_dial(run, el, hung)
        run.set_call_status(call_status_for("SUCCESS"))
        run.diag(
            "info",
            "twiml.dial_status_offnet",
            "after an offnet Dial Kazoo only updates CallStatus from the carrier's answer: "
            "DialCallStatus stays 'in-progress' (Twilio would send 'completed')",
        )
        return _end_dial(run, el, None)
    cause = outcome.cause if not outcome.answered else "NO_ANSWER"
    if cause in _RANG:
        kvs.update(dial_call_sid=run.b_leg_id(), dial_call_status="ringing")
    ctx.wait(limit_ms if cause == "NO_ANSWER" else min(outcome.ring_ms, limit_ms))
    ctx.event(
        "bridge_failed",
        target=target,
        cause=cause,
        code=outcome.code if not outcome.answered else 480,
    )
    status = call_status_for(cause)
    run.set_call_status(status)
    left = kvs.get("dial_call_status")
    run.diag(
        "warning",
        "twiml.dial_status_offnet",
        f"the offnet Dial failed ({cause}): Kazoo sets CallStatus={status} from the carrier but "
        + (f"leaves DialCallStatus at {left!r}" if left else "sends no DialCallStatus")
        + f" (Twilio would send DialCallStatus={status}); read CallStatus in the Dial action",
    )
    return _end_dial(run, el, None)


def _talk(run: TwimlRun, setup: _Setup, outcome: BridgeOutcome, target: str) -> End | None:
    """The bridged conversation. Returns an End when Kazoo hung up the caller during it."""
    ctx = run.ctx
    talk = outcome.talk_ms
    if setup.hangup_dtmf:
        nxt = ctx.caller.remaining[:1]
        if nxt and isinstance(nxt[0], (Press, TypeAhead)) and setup.hangup_dtmf in nxt[0].digits:
            # the caller presses it during the conversation
            ctx.caller.at_prompt() if isinstance(nxt[0], TypeAhead) else ctx.caller.at_input()
            ctx.wait(min(talk, ctx.caller.caller.reaction_ms))
            ctx.event("dtmf", digits=setup.hangup_dtmf, during="Dial")
            ctx.event("bridge_ended", target=target, cause="NORMAL_CLEARING", by="hangupOn")
            run.set_call_status("completed")
            run.diag(
                "warning",
                "twiml.dial_hangup_on",
                f"the caller pressed {setup.hangup_dtmf!r} (hangupOn): Kazoo hangs up the caller, not "
                "the called party as Twilio does, so nothing after the Dial reaches the caller",
            )
            return ctx.end(
                "hangup",
                f"hangupOn {setup.hangup_dtmf!r}: Kazoo hung up the caller",
                hangup_cause="NORMAL_CLEARING",
            )
    limit = setup.time_limit * 1000
    if talk > limit > 0:
        ctx.wait(limit)
        ctx.event("bridge_ended", target=target, cause="NORMAL_CLEARING", by="timeLimit")
        run.set_call_status("completed")
        return ctx.end(
            "hangup",
            f"the Dial's timeLimit ({setup.time_limit} s) ran out: Kazoo hung up",
            hangup_cause="NORMAL_CLEARING",
        )
    ctx.wait(talk)
    ctx.event("bridge_ended", target=target, cause=outcome.cause)
    return None


# -- endpoints, bridged directly --------------------------------------------------------------
def _endpoint_targets(run: TwimlRun, content: list[Any]) -> list[tuple[str, str]]:
    """xml_elements_to_endpoints: ``(fixture key, kind)``, skipping what cannot be built."""
    ctx = run.ctx
    out: list[tuple[str, str]] = []
    for noun in content:
        if not isinstance(noun, Element):
            continue
        ident = noun.text()
        if noun.tag in ("User", "Device"):
            kind = noun.tag.lower()
            docs = ctx.fixtures.users if kind == "user" else ctx.fixtures.devices
            if docs and ident not in docs:
                run.diag(
                    "warning",
                    f"twiml.dial_{kind}_not_found",
                    f"<{noun.tag}>{ident}</{noun.tag}> is not in the fixtures: Kazoo builds no "
                    "endpoint for it and skips it",
                )
                continue
            out.append((f"{kind}:{ident}", kind))
        elif noun.tag == "Number":
            out.append((f"offnet:{normalize_number(_cleanup(noun.text()))}", "offnet"))
        elif noun.tag == "Sip":
            uri = ident if ident.startswith(("sip:", "sips:")) else f"sip:{ident}"
            if "@" not in uri:
                run.diag(
                    "warning",
                    "twiml.dial_sip_invalid",
                    f"<Sip>{ident}</Sip> is not a SIP URI kzsip_uri can parse: Kazoo skips it",
                )
                continue
            out.append((uri, "sip"))
        else:
            habit = " (Twilio Client has no Kazoo equivalent)" if noun.tag == "Client" else ""
            run.diag(
                "warning",
                "twiml.dial_unknown_noun",
                f"<{noun.tag}> inside a <Dial> with several nouns is not an endpoint Kazoo knows; "
                f"it is skipped{habit}",
            )
    return out


def _endpoints(run: TwimlRun, el: Element, content: list[Any]) -> Outcome:
    ctx = run.ctx
    kvs = ctx.state.kvs
    setup = _Setup(run, el)
    _note_continue_on_fail_unused(run, el, "users, devices or SIP URIs")
    targets = _endpoint_targets(run, content)
    if not targets:
        run.diag(
            "warning",
            "twiml.dial_no_endpoints",
            "the <Dial> has no endpoint Kazoo could build: kzt_twiml_dial stops the TwiML",
        )
        return Stop(why="<Dial> found no endpoints")
    ring_s = int_attr(el, "timeout", 20)
    assert ring_s is not None
    if ring_s <= 0:
        raise TwimlError(
            "twiml.bad_attribute", f'<Dial timeout="{ring_s}">: the bridge timeout must be above 0'
        )
    strategy = el.attrs.get("strategy")
    if strategy is not None:
        if ctx.options.faithful:
            raise TwimlError(
                "twiml.dial_strategy",
                f'<Dial strategy="{strategy}"> crashes Kazoo: dial_strategy/1 compares the value with '
                "binaries, but xmerl gives a string, so no clause matches (a Kazoo bug). Drop strategy "
                "(simultaneous is the default)",
            )
        if strategy not in ("simultaneous", "single"):
            raise TwimlError(
                "twiml.dial_strategy", f'<Dial strategy="{strategy}"> is not simultaneous or single'
            )
    single = strategy == "single"
    run.set_call_status("ringing")
    kvs["digits_collected"] = ""  # wait_for_offnet clears the digits
    outcomes = [(key, ctx.fixtures.outcome(key, kind)) for key, kind in targets]
    for key, _ in outcomes:
        ctx.event(
            "bridge_attempt", target=key, timeout_s=ring_s, strategy=strategy or "simultaneous"
        )
    winner: tuple[str, BridgeOutcome] | None = None
    ring_ms = ring_s * 1000
    if single:
        spent = 0
        for key, out in outcomes:
            if out.answered and out.ring_ms < ring_ms:
                spent += out.ring_ms
                winner = (key, out)
                break
            spent += (
                ring_ms if out.cause == "NO_ANSWER" or out.answered else min(out.ring_ms, ring_ms)
            )
            ctx.event(
                "bridge_failed",
                target=key,
                cause=out.cause if not out.answered else "NO_ANSWER",
                code=out.code if not out.answered else 480,
            )
        wait = spent
    else:
        answered = [(k, o) for k, o in outcomes if o.answered and o.ring_ms < ring_ms]
        if answered:
            winner = min(answered, key=lambda ko: ko[1].ring_ms)
            wait = winner[1].ring_ms
        else:
            wait = max(
                ring_ms if o.cause == "NO_ANSWER" or o.answered else min(o.ring_ms, ring_ms)
                for _, o in outcomes
            )
    # LEG_CREATED: the B-leg exists and rings.
    rang = winner is not None or any(o.answered or o.cause in _RANG for _, o in outcomes)
    if rang:
        kvs.update(dial_call_sid=run.b_leg_id(), dial_call_status="ringing")
    ctx.wait(wait)
    if winner is not None:
        key, out = winner
        ctx.answer()
        kvs.update(call_status="in-progress", dial_call_status="in-progress")
        ctx.event("bridged", target=key, b_leg=kvs["dial_call_sid"])
        hung = _talk(run, setup, out, key)
        if hung is not None:
            return _end_dial(run, el, hung)
        cause = out.cause
        end = ctx.end(
            "bridged",
            f"answered by {key}; when the bridge ended Kazoo hung up the caller too",
            target=key,
            hangup_cause=cause,
        )
    else:
        first = outcomes[0][1]
        cause = first.cause if not first.answered else "NO_ANSWER"
        if not single:
            for key, out in outcomes:
                ctx.event(
                    "bridge_failed",
                    target=key,
                    cause=out.cause if not out.answered else "NO_ANSWER",
                    code=out.code if not out.answered else 480,
                )
        end = ctx.end(
            "hangup", f"the Dial failed ({cause}) and Kazoo hung up the caller", hangup_cause=cause
        )
    # kzt_receiver:handle_hangup: statuses, then the caller's own leg is hung up.
    dial_status = kvs.get("dial_call_status")
    kvs["dial_call_status"] = (
        "completed"
        if dial_status == "in-progress"
        else "no-answer"
        if dial_status == "ringing"
        else "failed"
    )
    run.set_call_status(call_status_for(cause))
    run.diag(
        "warning",
        "twiml.dial_a_leg_hangup",
        "when a <Dial> to users, devices or SIP URIs ends, Kazoo's kzt_receiver hangs up the caller "
        "as well"
        + (
            ": the action is still requested, but its TwiML never plays"
            if "action" in el.attrs
            else ""
        )
        + " (Twilio continues the call). Dial a number (offnet) to keep the caller",
    )
    return _end_dial(run, el, end)


# -- conference and queue ---------------------------------------------------------------------
def _conference(run: TwimlRun, el: Element, noun: Element) -> Outcome:
    ctx = run.ctx
    ctx.answer()
    name = noun.text()
    room = hashlib.md5(name.encode("utf-8")).hexdigest()
    maxp = int_attr(noun, "maxParticipants", 40)
    assert maxp is not None
    if not 2 < maxp <= 40:
        raise TwimlError(
            "twiml.bad_attribute",
            f'<Conference maxParticipants="{maxp}">: Kazoo accepts 3 to 40 '
            "(get_max_participants has no clause for it)",
        )
    _noun_method(noun, " (it crashes after publishing the conference request)")
    _Setup(run, el)
    _note_continue_on_fail_unused(run, el, "a conference")
    run.set_call_status("in-progress")
    moderator = is_true(noun, "startConferenceOnEnter", True)
    ctx.event(
        "handoff",
        to="conference",
        target=room,
        name=name,
        moderator=moderator,
        end_on_exit=is_true(noun, "endConferenceOnExit", False),
        beep=is_true(noun, "beep", True),
        muted=is_true(noun, "muted", False),
        moh=noun.attrs.get("waitUrl", "$${hold_music}"),
    )
    if "action" in el.attrs:
        run.diag(
            "warning",
            "twiml.conference_action",
            "after <Dial><Conference> Kazoo stops the TwiML: the Dial action is computed but never "
            "requested (Twilio requests it when the caller leaves the conference)",
        )
    if "waitUrl" in noun.attrs:
        run.diag(
            "info",
            "twiml.conference_wait_url",
            "Kazoo plays waitUrl as hold music itself; it never requests TwiML from it",
        )
    return Stop(
        ctx.end(
            "conference",
            f"joined conference {name!r} (room id {room}, the MD5 of the name)",
            target=room,
        )
    )


def _queue(run: TwimlRun, el: Element, noun: Element) -> Outcome:
    name = noun.text()
    _noun_method(noun)
    run.ctx.state.kvs["queue_sid"] = name
    _Setup(run, el)
    _note_continue_on_fail_unused(run, el, "a queue")
    run.ctx.event("handoff", to="queue", target=name, supported=False)
    run.diag(
        "warning",
        "twiml.dial_queue",
        "<Dial><Queue> is not supported by Kazoo: it only sets QueueSid and stops the TwiML",
    )
    return Stop(why="<Dial><Queue> is unsupported")
