"""Modules that hand the call elsewhere (voicemail, conference, transfer, park) or record it."""

from __future__ import annotations

from typing import Any

from .._caller import Hangup, Press
from .._context import CallContext
from .._flow import Continue, Exit, Next, Stop
from . import module


@module("voicemail")
def voicemail(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    box = str(data.get("id", ""))
    action = str(data.get("action") or "compose")
    ctx.answer()
    ctx.event("handoff", to="voicemail", target=box, action=action)
    if action == "compose":
        ctx.prompt(media="vm-person_not_available", duration_ms=ctx.media_ms("vm-person_not_available"),
                   source="voicemail", type_ahead=False)
        limit = data.get("max_message_length", 500)
        act = ctx.caller.at_input()
        if isinstance(act, Hangup):
            ctx.hang_up_now(ctx.caller.caller.reaction_ms)
        ctx.wait(min(10_000, int(limit) * 1000 if isinstance(limit, int) else 10_000))
        ctx.event("voicemail_left", box=box, pressed=act.digits if isinstance(act, Press) else None)
    if children.get("_"):
        return Continue("_")
    return Stop(ctx.end("voicemail", f"voicemail {action} for box {box}", target=box))


@module("conference")
def conference(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    target = str(data.get("id") or (data.get("config") or {}).get("name") or "ad-hoc")
    ctx.answer()
    ctx.event("handoff", to="conference", target=target)
    return Exit(ctx.end("conference", f"handed to conference {target}; children are ignored", target=target))


@module("transfer")
def transfer(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    target = str(data.get("target", ""))
    ctx.event("handoff", to="transfer", target=target, transfer_type=data.get("transfer_type", "blind"))
    return Exit(ctx.end("transferred", f"transferred to {target}", target=target))


@module("park")
def park(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    slot = str(data.get("slot") or "1")
    ctx.event("handoff", to="park", target=slot, action=data.get("action", "park"))
    return Exit(ctx.end("parked", f"parked in slot {slot}", target=slot))


@module("record_call")
def record_call(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    ctx.event("record_call", action=data.get("action", "start"), url=data.get("url"),
              format=data.get("format"), time_limit_s=data.get("time_limit", 3600))
    return Continue("_")


@module("record_caller")
def record_caller(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    url = data.get("url")
    if not url:
        ctx.diag("info", "record_caller.no_url", "record_caller has no url: Kazoo continues to _ at once",
                 path=ctx.node_path + ".data.url")
        return Continue("_")
    ctx.answer()
    limit = data.get("time_limit", 3600)
    limit_ms = (int(limit) if isinstance(limit, int) else 3600) * 1000
    act = ctx.caller.at_input()
    if isinstance(act, Hangup):
        ctx.hang_up_now(ctx.caller.caller.reaction_ms)
    if isinstance(act, Press) and act.digits:
        ms = min(limit_ms, ctx.caller.caller.reaction_ms)
        ctx.wait(ms)
        stopped = act.digits[0]
    else:
        ms = limit_ms
        ctx.wait(ms)
        stopped = None
    ctx.event("recorded", url=url, method=data.get("method", "put"), duration_ms=ms, stopped_by=stopped,
              note="uploaded to url; does not set Recording-* pivot fields")
    return Continue("_")
