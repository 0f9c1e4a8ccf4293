"""cf_menu: a greeting, digits, and a child per digit string."""

from __future__ import annotations

import re
from typing import Any

from .._context import ALL_DIGITS, CallContext
from .._flow import Branch, Continue, Goto, Next
from . import module

_DEFAULTS = {"retries": 3, "timeout": 10_000, "max_extension_length": 4, "hunt": False}


def _media(doc: dict[str, Any], key: str, default: str) -> str | None:
    value = (doc.get("media") or {}).get(key, True)
    if value is False:
        return None
    return default if value is True or not value else str(value)


def _find_callflow(ctx: CallContext, number: str) -> dict[str, Any] | None:
    for doc in ctx.fixtures.callflows.values():
        if number in (doc.get("numbers") or []):
            return doc
        for pat in doc.get("patterns") or []:
            try:
                if re.search(pat, number):
                    return doc
            except re.error:
                continue
    return None


@module("menu")
def menu(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    menu_id = data.get("id")
    doc: dict[str, Any] = {}
    if menu_id:
        found = ctx.fixtures.menus.get(str(menu_id))
        if found is None:
            ctx.diag("info", "menu.no_document",
                     f"menu document {menu_id!r} is not in the fixtures; Kazoo's built-in defaults apply "
                     "(prompt menu-no_prompt, 3 retries, 10 s, 4 digits, no hunting)",
                     path=ctx.node_path + ".data.id")
        else:
            doc = found
    settings = {**_DEFAULTS, **{k: doc[k] for k in _DEFAULTS if k in doc}}
    retries = int(settings["retries"]) or 1
    timeout = int(settings["timeout"])
    max_len = int(settings["max_extension_length"])
    inter = data.get("interdigit_timeout")
    inter = inter if isinstance(inter, int) and inter > 0 else ctx.options.interdigit_timeout_ms
    greeting = _media(doc, "greeting", "menu-no_prompt")
    ctx.answer()
    while retries > 0:
        typed = ""
        if greeting:
            typed = ctx.prompt(media=greeting, duration_ms=ctx.media_ms(greeting), terminators=ALL_DIGITS,
                               source="menu", type_ahead=False)
        cut = typed.split("#", 1)[0]
        if "#" in typed:
            digits, how = cut, "terminator"
        else:
            digits, how = ctx.collect(max_digits=max_len, timeout_ms=timeout, interdigit_ms=inter,
                                      terminators=("#",), already=cut, source="menu")
        ctx.event("menu_input", digits=digits, how=how, retries_left=retries)
        if not digits:
            if children.get("timeout"):
                return Goto("timeout")
            retries -= 1
            continue
        if children.get(digits):
            return Goto(digits)
        hunt = bool(settings["hunt"])
        allow, deny = doc.get("hunt_allow"), doc.get("hunt_deny")
        if hunt and (not allow or re.search(allow, digits)) and not (deny and re.search(deny, digits)):
            target = _find_callflow(ctx, digits)
            if target is not None and target.get("flow"):
                ctx.event("menu_hunt", digits=digits)
                return Branch(target["flow"], f"callflow[{digits}]")
        if doc.get("record_pin") and digits == str(doc["record_pin"]):
            ctx.event("menu_record_greeting", digits=digits)
            retries -= 1
            continue
        invalid = _media(doc, "invalid_media", "menu-invalid_entry")
        if invalid:
            ctx.prompt(media=invalid, duration_ms=ctx.media_ms(invalid), source="menu", type_ahead=False)
        retries -= 1
    exit_media = _media(doc, "exit_media", "menu-exit")
    if exit_media:
        ctx.prompt(media=exit_media, duration_ms=ctx.media_ms(exit_media), source="menu", type_ahead=False)
    if children.get("max_retries"):
        return Goto("max_retries")
    if not children.get("_"):
        ctx.prompt(media="vm-goodbye", duration_ms=ctx.media_ms("vm-goodbye"), source="menu", type_ahead=False)
    else:
        ctx.prompt(media="menu-transferring_call", duration_ms=ctx.media_ms("menu-transferring_call"),
                   source="menu", type_ahead=False)
    return Continue("_")
