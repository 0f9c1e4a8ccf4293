"""Flow control: hangup, response, sleep, callflow, temporal_route, caller-id checks."""

from __future__ import annotations

import re
from typing import Any

from .._context import CallContext
from .._flow import Branch, Continue, HardStop, Next, Stop
from . import module

_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_DAY_MS = 86_400_000


@module("hangup")
def hangup(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    return HardStop(ctx.end("hangup", "the hangup module hung up", hangup_cause="NORMAL_CLEARING"))


@module("response")
def response(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    code = data.get("code", 486)
    message = data.get("message")
    if data.get("media"):
        media = str(data["media"])
        ctx.prompt(media=media, duration_ms=ctx.media_ms(media), source="response", type_ahead=False)
    ctx.sip_response = int(code) if isinstance(code, int) else 486
    ctx.event("sip_response", code=ctx.sip_response, message=message)
    return Stop(ctx.end("sip_response", f"SIP {ctx.sip_response} {message or ''}".strip(),
                        sip_code=ctx.sip_response))


@module("sleep")
def sleep(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    duration = data.get("duration", 0)
    unit = str(data.get("unit") or "s")
    ms = int(duration) * _UNIT_MS.get(unit, 1000) if isinstance(duration, (int, float)) else 0
    ms = min(max(ms, 0), _DAY_MS)
    ctx.event("sleep", ms=ms)
    ctx.wait(ms)
    return Continue("_")


@module("answer")
def answer(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    ctx.answer()
    return Continue("_")


@module("noop", "manual_presence", "missed_call_alert", "dynamic_cid", "page_group", "intercom",
        "privacy", "disa", "eavesdrop", "group_pickup", "group_pickup_feature", "receive_fax",
        "call_forward", "do_not_disturb", "hotdesk", "presence", "camper", "directory",
        "faxbox", "call_waiting", "cf_ccc", "ccc", "lookupcidname", "tts_prompt",
        "record_call_feature", "acdc_member", "acdc_agent", "acdc_queue", "acdc_login",
        "acdc_logout", "audio_macro")
def noop(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    if ctx.transcript.events and ctx.transcript.events[-1].type == "module":
        module_name = ctx.transcript.events[-1].details.get("module")
        if module_name != "noop":
            ctx.diag("info", "module.stubbed",
                     f"pivotsim does not simulate {module_name!r} in detail; it continues to _",
                     path=ctx.node_path)
    return Continue("_")


@module("callflow")
def callflow(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    cf_id = str(data.get("id", ""))
    doc = ctx.fixtures.callflows.get(cf_id)
    if not doc or not doc.get("flow"):
        ctx.diag("warning", "callflow.not_found",
                 f"callflow {cf_id!r} is not in the fixtures: Kazoo continues to _",
                 path=ctx.node_path + ".data.id")
        return Continue("_")
    return Branch(doc["flow"], f"callflow[{cf_id}]")


@module("temporal_route")
def temporal_route(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    rules = data.get("rules") or []
    for rule_id in rules:
        rule = ctx.fixtures.temporal_rules.get(str(rule_id))
        if rule is None:
            ctx.diag("info", "temporal_route.no_rule",
                     f"temporal rule {rule_id!r} is not in the fixtures; treated as inactive",
                     path=ctx.node_path + ".data.rules")
            continue
        if rule.get("active"):
            ctx.event("temporal_rule", rule=str(rule_id), active=True)
            return Continue(str(rule_id))
    ctx.event("temporal_rule", rule=None, active=False)
    return Continue("_")


@module("check_cid")
def check_cid(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    number = ctx.state.props.caller_id_number or ""
    if data.get("use_absolute_mode"):
        key = number if children.get(number) else "nomatch"
    else:
        regex = str(data.get("regex") or ".*")
        try:
            key = "match" if re.search(regex, number) else "nomatch"
        except re.error:
            key = "nomatch"
    ctx.event("cid_check", number=number, result=key)
    return Continue(key)


@module("cidlistmatch")
def cidlistmatch(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    number = ctx.state.props.caller_id_number or ""
    lst = ctx.fixtures.lists.get(str(data.get("id", ""))) or {}
    entries = [str(e) for e in lst.get("entries", [])]
    key = "match" if any(number == e or number.endswith(e) for e in entries) else "nomatch"
    ctx.event("cid_check", number=number, result=key, list=data.get("id"))
    return Continue(key)


@module("webhook")
def webhook(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    ctx.event("webhook", uri=data.get("uri"), http_verb=data.get("http_verb", "post"),
              note="simulated: pivotsim does not send it")
    return Continue("_")
