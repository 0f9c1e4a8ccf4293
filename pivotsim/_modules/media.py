"""Prompts: tts and play. Digits pressed over them are kept as type-ahead."""

from __future__ import annotations

from typing import Any

from .._context import ALL_DIGITS, CallContext
from .._flow import Continue, Next
from . import module


def _terminators(data: dict[str, Any]) -> tuple[str, ...]:
    t = data.get("terminators", ALL_DIGITS)
    return tuple(str(d) for d in t) if isinstance(t, list) else ALL_DIGITS


@module("tts")
def tts(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    ctx.answer()
    text = str(data.get("text", ""))
    extra = {k: data[k] for k in ("voice", "engine") if k in data}
    ctx.event("tts", language=data.get("language") or ctx.state.language, **extra)
    ctx.prompt(text=text, duration_ms=ctx.tts_ms(text), terminators=_terminators(data), source="tts")
    return Continue("_")


@module("play")
def play(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    media = data.get("id")
    if not media:
        ctx.diag("warning", "play.no_id", "play has no id: Kazoo goes straight to the _ child",
                 path=ctx.node_path + ".data.id")
        return Continue("_")
    if data.get("answer") is not False:
        ctx.answer()
        ctx.wait(100)
    loops = data.get("loop_count", 1)
    loops = loops if isinstance(loops, int) and loops > 0 else 1
    ctx.prompt(media=str(media), duration_ms=ctx.media_ms(str(media)) * loops,
               terminators=_terminators(data), source="play")
    return Continue("_")
