"""DTMF modules: collect_dtmf (the Pivot way to read digits), flush_dtmf, send_dtmf."""

from __future__ import annotations

from typing import Any

from .._context import CallContext
from .._flow import Continue, Next
from . import module


def _cut(digits: str, terminators: tuple[str, ...]) -> str:
    for i, d in enumerate(digits):
        if d in terminators:
            return digits[:i]
    return digits


@module("collect_dtmf")
def collect_dtmf(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    ctx.answer()
    state = ctx.state
    max_digits = data.get("max_digits", 1)
    max_digits = max_digits if isinstance(max_digits, int) and max_digits > 0 else 1
    timeout = data.get("timeout", 5000)
    timeout = timeout if isinstance(timeout, int) and timeout >= 0 else 5000
    inter = data.get("interdigit_timeout")
    inter = inter if isinstance(inter, int) and inter > 0 else ctx.options.interdigit_timeout_ms
    if "terminator" in data:
        terminators: tuple[str, ...] = (str(data["terminator"]),)
        if isinstance(data.get("terminators"), list) and ctx.options.faithful:
            ctx.diag("info", "collect_dtmf.terminators_shadowed",
                     f"terminators {data['terminators']} are ignored: Kazoo reads terminator "
                     f"({data['terminator']!r}, the schema default when not given) before terminators",
                     path=ctx.node_path + ".data.terminators")
        elif isinstance(data.get("terminators"), list):
            terminators = tuple(str(t) for t in data["terminators"])
    elif isinstance(data.get("terminators"), list):
        terminators = tuple(str(t) for t in data["terminators"])
    else:
        terminators = ("#",)
    name = str(data.get("collection_name") or "default")
    cols = state.dtmf_collections if state.dtmf_collections is not None else {}
    state.dtmf_collections = cols  # the KVS key exists from here on, even if empty
    ahead = _cut(cols.pop("default", ""), terminators)
    if ahead:
        ctx.event("type_ahead_used", digits=ahead, collection=name)
    digits, how = ctx.collect(max_digits=max_digits, timeout_ms=timeout, interdigit_ms=inter,
                              terminators=terminators, already=ahead, source="collect_dtmf")
    cols[name] = digits
    ctx.event("collected", collection=name, digits=digits, how=how)
    return Continue("_")


@module("flush_dtmf")
def flush_dtmf(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    name = str(data.get("collection_name") or "default")
    if ctx.options.faithful:
        ctx.diag("info", "flush_dtmf.noop",
                 f"flush_dtmf does not flush {name!r}: Kazoo passes the updated call only to "
                 "cf_exe:continue, which ignores it (a Kazoo bug)", path=ctx.node_path)
    elif ctx.state.dtmf_collections:
        ctx.state.dtmf_collections.pop(name, None)
        ctx.event("flushed", collection=name)
    return Continue("_")


@module("send_dtmf")
def send_dtmf(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    ctx.event("send_dtmf", digits=str(data.get("digits", "")))
    return Continue("_")
