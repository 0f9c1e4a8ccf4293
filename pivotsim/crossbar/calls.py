"""Placing the simulated call behind click-to-call ``connect``, and what it leaves behind.

Kazoo's order (crossbar-facts 5.2): with ``dial_first: extension`` a loopback leg runs
the extension's callflow at once, so the Pivot server gets its first request straight
away; the contact is then reached through the account's resources whose ``rules``
match. ``dial_first: contact`` rings the contact first and runs the callflow only once
they answer. What the contact does comes from a caller script. Every call leaves a
transcript, a history item, and pivot debug documents for requests made with ``debug``.

The engine is reached through :func:`run_engine` only, so the rest of the fake does not
care how calls are simulated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .base import account_db
from .callflows import find_callflow
from .envelope import NODE
from .resources import routable
from .util import gregorian, modb_suffix, new_id

if TYPE_CHECKING:
    from .api import Crossbar

log = logging.getLogger("pivotsim.crossbar")

#: Named outcomes for the contact, with the hangup cause FreeSWITCH reports.
OUTCOMES: dict[str, tuple[bool, str]] = {
    "answered": (True, "NORMAL_CLEARING"),
    "busy": (False, "USER_BUSY"),
    "no_answer": (False, "NO_ANSWER"),
    "rejected": (False, "CALL_REJECTED"),
    "unallocated": (False, "UNALLOCATED_NUMBER"),
    "failed": (False, "NORMAL_TEMPORARY_FAILURE"),
    "unavailable": (False, "NO_ROUTE_DESTINATION"),
}

#: How long the contact's phone rings before a failure is known (virtual ms).
FAILURE_RING_MS = 4000

EngineFactory = Callable[[], Any]


@dataclass
class ContactScript:
    """What the called person does: answer (then press these digits) or fail with a cause."""

    answered: bool = True
    cause: str = "NORMAL_CLEARING"
    outcome: str = "answered"
    actions: list[Any] = field(default_factory=list)
    hangup_after_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": self.outcome, "actions": [_action_repr(a) for a in self.actions]}
        if self.hangup_after_ms is not None:
            out["hangup_after_ms"] = self.hangup_after_ms
        return out


def _action_repr(action: Any) -> Any:
    if isinstance(action, str):
        return action
    return repr(action)


def parse_script(value: Any) -> ContactScript:
    """A caller script from a seed file, a query parameter or a test, checked in full.

    Forms: ``None`` (answers, stays silent); a list of presses (``["1234", ""]``, ``""``
    is silence); an outcome name (``"busy"``, ``"no_answer"``, ...); a comma-separated
    string of presses (``"1234,,2"``, the query-parameter form); or an object
    ``{"outcome": "answered", "digits": [...], "hangup_after_ms": 20000}``.
    Anything the engine's Caller would refuse is a ValueError *here*, so a bad script is
    a 400 on ``connect`` or a seed error at start, never a failure during the call.
    """
    if value is None or isinstance(value, ContactScript):
        return value or ContactScript()
    if isinstance(value, (list, tuple)):
        return ContactScript(actions=_checked_actions(value))
    if isinstance(value, str):
        key = _outcome_key(value)
        if key in OUTCOMES:
            ok, cause = OUTCOMES[key]
            return ContactScript(answered=ok, cause=cause, outcome=key)
        return ContactScript(actions=_checked_actions(value.split(",")))
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in _SCRIPT_KEYS)
        if unknown:
            raise ValueError(f"unknown caller script key {unknown[0]!r}; known: {', '.join(sorted(_SCRIPT_KEYS))}")
        outcome = value.get("outcome", "answered")
        if not isinstance(outcome, str) or _outcome_key(outcome) not in OUTCOMES:
            raise ValueError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        base = parse_script(outcome)
        actions = value.get("digits", value.get("actions", base.actions))
        if isinstance(actions, str):
            actions = actions.split(",")
        if not isinstance(actions, (list, tuple)):
            raise ValueError("a caller script's digits are a list of strings")
        hang = value.get("hangup_after_ms")
        if hang is not None and (isinstance(hang, bool) or not isinstance(hang, int) or hang < 0):
            raise ValueError("hangup_after_ms is a non-negative integer")
        cause = value.get("cause", base.cause)
        if not isinstance(cause, str) or not cause:
            raise ValueError("cause is a non-empty string (a hangup cause such as USER_BUSY)")
        return ContactScript(base.answered, cause, base.outcome, _checked_actions(actions), hang)
    raise ValueError(f"a caller script is a list, a string or an object, not {type(value).__name__}")


_SCRIPT_KEYS = frozenset({"outcome", "digits", "actions", "hangup_after_ms", "cause"})


def _outcome_key(name: str) -> str:
    """``"No Answer"``, ``no-answer`` and ``no_answer`` name the same outcome."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _checked_actions(items: Any) -> list[Any]:
    """The presses as the engine's Caller takes them, each checked by the Caller itself.

    A number is refused rather than turned into digits: YAML reads ``0123`` as 83 and
    ``0001`` as 1, so a PIN that reached us as a number may already have lost its digits.
    """
    from pivotsim import Caller, Hangup, Press, Silence, TypeAhead

    out: list[Any] = []
    for item in items:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            raise ValueError(f"the press {item!r} is a number: quote it (\"0123\"), since YAML reads "
                             "0123 as 83 and 0001 as 1")
        if not isinstance(item, (str, Press, TypeAhead, Silence, Hangup)):
            raise ValueError(f"a press is a string of DTMF digits (0-9, *, #, A-D), not {item!r}")
        out.append(item)
    Caller(out)  # raises ValueError on a digit the engine would refuse
    return out


@dataclass
class PlannedCall:
    """Everything ``connect`` decided before the call is simulated."""

    account_id: str
    realm: str
    c2c: dict[str, Any]
    contact: str  # normalised
    contact_raw: str
    call_id: str
    cavs: dict[str, Any]
    script: ContactScript
    created: float
    #: Which caller script applied: ``pivotsim_caller``, ``callers[KEY]``, ``default_caller`` or ``none``.
    script_source: str = "none"


def default_engine_factory(strict_blacklist: bool) -> EngineFactory:
    """Real HTTP to the ``voice_url``, Kazoo's schemas for replies: what ``pivotsim serve`` uses."""

    def factory() -> Any:
        from pivotsim import Engine, HTTPTransport, Options, make_validator

        options = Options(strict_blacklist=strict_blacklist)
        return Engine(HTTPTransport(), validator=make_validator(strict_blacklist=strict_blacklist), options=options)

    return factory


def run_engine(
    engine_factory: EngineFactory,
    flow: dict[str, Any],
    call: dict[str, Any],
    script: ContactScript,
    fixtures: dict[str, Any],
) -> dict[str, Any]:
    """The one place the engine is called: one call in, a JSON-able transcript out."""
    from pivotsim import Caller, CallProperties, Fixtures

    engine = engine_factory()
    caller = Caller(script.actions, hangup_after_ms=script.hangup_after_ms)
    try:
        transcript = engine.run(
            flow,
            call=CallProperties(**call),
            caller=caller,
            fixtures=Fixtures.from_dict(fixtures),
        )
    finally:
        transport = getattr(engine, "transport", None)
        if transport is not None and hasattr(transport, "close"):
            transport.close()
    return transcript.to_dict()


def call_properties(plan: PlannedCall) -> dict[str, Any]:
    """The caller ids Kazoo presents on the leg that runs the callflow (crossbar-facts 5.2)."""
    c2c = plan.c2c
    number = c2c.get("caller_id_number") if isinstance(c2c.get("caller_id_number"), str) else None
    number = number or plan.contact_raw
    extension = str(c2c.get("extension", ""))
    return {
        "account_id": plan.account_id,
        "call_id": plan.call_id,
        "caller_id_name": str(c2c.get("name", "")),
        "caller_id_number": number,
        "from_user": number,
        "from_realm": plan.realm,
        "to_user": extension,
        "to_realm": plan.realm,
        "request_user": extension,
        "request_realm": plan.realm,
        "custom_application_vars": dict(plan.cavs),
    }


def place(cb: Crossbar, plan: PlannedCall) -> dict[str, Any]:
    """Simulate the call, then record transcript, debug docs and history. Returns the history doc."""
    c2c = plan.c2c
    extension = str(c2c.get("extension", ""))
    dial_first = "contact" if c2c.get("dial_first") == "contact" else "extension"
    timeout = c2c.get("timeout")
    timeout_s: int = timeout if isinstance(timeout, int) and timeout > 0 else 30
    with cb.lock:
        callflow = find_callflow(cb, plan.account_id, extension)
        resource = routable(cb, plan.account_id, plan.contact)
        fixtures = cb.engine_fixtures(plan.account_id)
    script = plan.script
    cause: str | None = None
    run_script: ContactScript | None = None
    if resource is None:
        cause = "no resources"
    elif not script.answered:
        cause = "timed out" if script.outcome == "no_answer" else script.cause
    if dial_first == "contact":
        if cause is None:
            if callflow is None:
                cause = f"no callflow routes {extension}"
            else:
                run_script = script
    elif callflow is None:
        cause = f"no callflow routes {extension}"
    else:
        if cause is None:
            run_script = script
        else:
            # The callflow is already running when the contact leg fails; the loopback then hangs up.
            wait = 0 if resource is None else (timeout_s * 1000 if script.outcome == "no_answer" else FAILURE_RING_MS)
            run_script = ContactScript(False, script.cause, script.outcome, [], wait)
    transcript: dict[str, Any] | None = None
    if run_script is not None and callflow is not None:
        raw_flow = callflow.get("flow")
        flow: dict[str, Any] = raw_flow if isinstance(raw_flow, dict) else {}
        transcript = run_engine(cb.engine_factory, flow, call_properties(plan), run_script, fixtures)
    with cb.lock:
        return record(cb, plan, transcript, cause, callflow, resource, dial_first)


def place_safely(cb: Crossbar, plan: PlannedCall) -> dict[str, Any]:
    """:func:`place`, but a simulation that blows up still leaves a history row saying so.

    Kazoo always writes the originate result; a call that vanished without one would
    leave the user nothing to look at. The error is logged with its traceback.
    """
    try:
        return place(cb, plan)
    except Exception as exc:  # noqa: BLE001 - any engine failure becomes the call's cause
        log.exception("pivotsim: placing call %s failed", plan.call_id)
        cause = f"request failed: pivotsim could not simulate the call ({type(exc).__name__}: {exc})"
        dial_first = "contact" if plan.c2c.get("dial_first") == "contact" else "extension"
        with cb.lock:
            return record(cb, plan, None, cause, None, None, dial_first)


def record(
    cb: Crossbar,
    plan: PlannedCall,
    transcript: dict[str, Any] | None,
    cause: str | None,
    callflow: dict[str, Any] | None,
    resource: dict[str, Any] | None,
    dial_first: str,
) -> dict[str, Any]:
    db = account_db(plan.account_id)
    now = cb.clock()
    greg = gregorian(now)
    if transcript is not None:
        transcript["pivotsim_crossbar"] = {
            "clicktocall_id": plan.c2c["_id"],
            "contact": plan.contact,
            "dial_first": dial_first,
            "callflow_id": callflow["_id"] if callflow else None,
            "resource_id": resource["_id"] if resource else None,
            "contact_script": plan.script.to_dict(),
            "contact_script_source": plan.script_source,
            "result": "success" if cause is None else "error",
            "cause": cause,
        }
        cb.store.save(
            db,
            {
                "_id": plan.call_id,
                "pvt_type": "pivotsim_call",
                "pvt_created": greg,
                "pvt_modified": greg,
                "call_id": plan.call_id,
                "clicktocall_id": plan.c2c["_id"],
                "contact": plan.contact,
                "result": "success" if cause is None else "error",
                **({"cause": cause} if cause else {}),
                "end_reason": (transcript.get("end") or {}).get("reason"),
                "requests": len(transcript.get("requests", [])),
                "transcript": transcript,
            },
        )
        write_debug_docs(cb, plan.account_id, plan.call_id, transcript.get("requests", []), now)
    history: dict[str, Any] = {
        "_id": new_id(),
        "pvt_type": "c2c_history",
        "pvt_created": greg,
        "pvt_modified": greg,
        "pvt_modb": modb_suffix(now),
        "clicktocall_id": plan.c2c["_id"],
        "timestamp": greg,
        "contact": plan.contact,
    }
    if cause is None:
        history["result"] = "success"
        history["call_id"] = plan.call_id
    else:
        history["result"] = "error"
        history["cause"] = cause
    return cb.store.save(db, history)


def _lower_headers(headers: Any) -> dict[str, str]:
    """Header names *and values* lower-cased, as pivot_call writes them (kazoo-pivot-contract
    5.1: "Header keys and values are lowercased in the debug docs", e.g. ``"date": "fri, 30 may
    2014 ..."``; crossbar-facts 6). Lower-casing the values is deliberate, not a bug."""
    if not isinstance(headers, dict):
        return {}
    return {str(k).lower(): str(v).lower() for k, v in headers.items()}


def _json_errors(body: str) -> dict[str, Any]:
    """pivot_call debug_json_error: where jiffy stopped, and why."""
    try:
        json.loads(body)
    except json.JSONDecodeError as exc:
        message = "trailing data" if exc.msg.startswith("Extra data") else "invalid JSON"
        return {"before": body[: exc.pos], "after": body[exc.pos :], "message": message}
    except ValueError:
        pass
    return {"before": "", "after": body, "message": "invalid JSON"}


def write_debug_docs(cb: Crossbar, account_id: str, call_id: str, requests: list[dict[str, Any]], now: float) -> None:
    """One doc per request and one per response for ``debug`` requests; JSON errors always."""
    db = account_db(account_id)
    greg = gregorian(now)
    modb = modb_suffix(now)
    seq = 0

    def save(fields: dict[str, Any], iteration: int) -> None:
        nonlocal seq
        seq += 1
        cb.store.save(
            db,
            {
                "_id": new_id(),
                "pvt_type": "pivot_debug",
                "pvt_created": greg,
                "pvt_node": NODE,
                "pvt_modb": modb,
                "pvt_seq": seq,
                "call_id": call_id,
                "iteration": iteration,
                **fields,
            },
        )

    for rec in requests:
        raw_iteration = rec.get("iteration")
        iteration: int = raw_iteration if isinstance(raw_iteration, int) else 1
        if rec.get("debug"):
            save(
                {
                    "uri": rec.get("url", ""),
                    "method": str(rec.get("method", "get")).lower(),
                    "req_headers": _lower_headers(rec.get("headers")),
                    "req_body": rec.get("body_sent") or "",
                },
                iteration,
            )
            status = rec.get("status")
            if isinstance(status, int):
                save(
                    {
                        "resp_status_code": "200" if status in (200, 206) else str(status),
                        "resp_headers": _lower_headers(rec.get("response_headers")),
                        "resp_body": rec.get("body") or "",
                    },
                    iteration,
                )
        if rec.get("outcome") == "json_error":
            body = rec.get("body") or ""
            save({"resp_body": body, "json_errors": _json_errors(body)}, iteration)
