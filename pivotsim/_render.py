"""A transcript as a person reads it: one line per thing that happened, in virtual time."""

from __future__ import annotations

import re
from typing import Any

from ._transcript import Transcript

__all__ = ["printable", "render_text"]

# C0 controls but tab, DEL, C1 controls, the Unicode line separators and lone surrogates:
# a server's reply (or a scenario file) must not be able to move the cursor, recolour or
# retitle the terminal or CI log of whoever reads the transcript, nor break a UTF-8 writer.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_UNPRINTABLE_BUT_NEWLINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters and lone surrogates shown as escapes, safe to print.

    ``keep_newlines`` lets a multi-line report keep its layout.
    """
    pattern = _UNPRINTABLE_BUT_NEWLINES if keep_newlines else _UNPRINTABLE
    return pattern.sub(_escape, text) if pattern.search(text) else text


_SKIP = {"module", "request", "response", "answer", "tts", "end", "diagnostic"}
_VERBOSE_ONLY = {"verb", "twiml_session", "bridge_ended", "beep"}


def _t(ms: int) -> str:
    return f"{ms / 1000:8.3f}s"


def _short(text: str, n: int = 110) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _event_line(e: Any) -> str | None:
    d = e.details
    t = e.type
    if t == "prompt":
        what = f'"{d["text"]}"' if "text" in d else f"media {d.get('media')}"
        src = d.get("source", "")
        return f"plays {what} ({d['duration_ms'] / 1000:.1f} s{', ' + src if src else ''})"
    if t == "dtmf":
        return f"caller presses {d['digits']}" + (" over the prompt" if d.get("during") == "prompt" else "")
    if t == "dtmf_ignored":
        return f"digits {d['digits']} not collected: {d['reason']}"
    if t == "prompt_stopped":
        return f"playback stopped by {d['by']}"
    if t == "collected":
        return f"collected {d['collection']}={d['digits']!r} ({d['how']})"
    if t == "menu_input":
        return f"menu got {d['digits']!r} ({d['how']})"
    if t == "type_ahead_used":
        return f"type-ahead {d['digits']} moves into collection {d['collection']}"
    if t == "cavs_set":
        return "sets CAVs " + ", ".join(f"{k}={v!r}" for k, v in d["values"].items())
    if t == "branch":
        return f"takes child {d['key']!r}"
    if t == "flow_replaced":
        return f"the reply replaces the flow (root module {d.get('module')})"
    if t == "pivot_wait_expired":
        return f"cf_pivot gave up after {d['waited_ms'] / 1000:.0f} s of silence; takes _"
    if t in ("bridge_attempt",):
        return f"rings {d['target']}"
    if t == "bridged":
        return f"bridged to {d['target']}"
    if t == "bridge_failed":
        return f"{d['target']} failed: {d['cause']} ({d.get('code')})"
    if t == "handoff":
        return f"hands the call to {d['to']} {d.get('target', '')}".rstrip()
    if t == "sip_response":
        return f"sends SIP {d['code']} {d.get('message') or ''}".rstrip()
    if t == "pause":
        return f"pauses {d['ms'] / 1000:.1f} s"
    if t == "user_var_set":
        return f"sets TwiML variable {d['key']}={d['value']!r}"
    if t == "recorded":
        return "records " + ", ".join(f"{k}={v!r}" for k, v in d.items() if v is not None)
    if t == "sleep":
        return f"sleeps {d['ms'] / 1000:.1f} s"
    if t == "language":
        return f"language is now {d['language']}"
    if t == "http_redirect":
        return f"follows HTTP {d['status']} to {d['location']}"
    if t in _SKIP:
        return None
    rest = ", ".join(f"{k}={v!r}" for k, v in d.items())
    return f"{t.replace('_', ' ')}" + (f" ({rest})" if rest else "")


def _interesting(r: Any) -> str:
    """The parameters a Pivot developer looks for: digits and CAVs."""
    if r.json is not None:
        picked = {k: v for k, v in r.json.items() if k.startswith(("Digits", "Custom-Application-Vars"))}
        return ", ".join(f"{k}={v}" for k, v in picked.items() if v not in ({}, None))
    pairs = r.params or []
    return " ".join(f"{k}={v}" for k, v in pairs if k.startswith(("Digits", "Custom-Application-Vars")))


def render_text(t: Transcript, *, verbose: bool = False) -> str:
    c = t.call
    out: list[str] = []
    name = c.get("caller_id_name")
    who = f'"{name}" <{c.get("caller_id_number")}>' if name else str(c.get("caller_id_number"))
    out.append(f"Call {c.get('call_id')}")
    out.append(f"  from {who} to {c.get('request_user')}   account {c.get('account_id')}")
    reqs = {r.index: r for r in t.requests}
    diags = list(t.diagnostics)
    for e in t.events:
        if e.type == "request":
            r = reqs[e.details["index"]]
            url = r.url if verbose else _short(r.url)
            out.append(f"{_t(e.t_ms)}  >> {r.method} {url}   [{r.req_format}, {r.purpose}]")
            if verbose and r.method != "GET":
                out.append(f"{'':10}     body: {r.body_sent}")  # verbose: every field sent
            elif not verbose:
                keys = _interesting(r)
                if keys:
                    out.append(f"{'':10}     with {_short(keys, 150)}")
            continue
        if e.type == "response":
            r = reqs[e.details["index"]]
            if r.status is None:
                out.append(f"{'':10}  << no reply: {r.error}")
            else:
                body = (r.body or "").replace("\n", " ")
                out.append(
                    f"{'':10}  << {r.status} {r.content_type or '(no content-type)'} "
                    f"{r.elapsed_ms:.1f} ms: {_short(body, 90)}"
                )
            continue
        if e.type == "diagnostic":
            d = e.details
            where = f" (at {d['path']})" if d.get("path") else ""
            out.append(f"{_t(e.t_ms)}  !! {d['level']} [{d['code']}] {d['message']}{where}")
            continue
        if e.type == "module":
            d = e.details
            if verbose or d.get("skipped"):
                out.append(f"{_t(e.t_ms)}  -- {d['module']}{' (skipped)' if d.get('skipped') else ''} at {d['path']}")
            continue
        if e.type == "request" and not diags:
            continue
        if e.type in _VERBOSE_ONLY and not verbose:
            continue
        line = _event_line(e)
        if line:
            out.append(f"{_t(e.t_ms)}  {line}")
    # request-level failures without a response event
    if t.end:
        end = t.end
        extra = []
        if end.sip_code:
            extra.append(f"SIP {end.sip_code}")
        if end.hangup_cause:
            extra.append(end.hangup_cause)
        if end.target:
            extra.append(f"target {end.target}")
        more = f" [{', '.join(extra)}]" if extra else ""
        out.append(f"END {end.reason} at {end.t_ms / 1000:.3f}s{more}: {end.detail}")
    n_err = sum(1 for d in diags if d.level == "error")
    n_warn = sum(1 for d in diags if d.level == "warning")
    out.append(f"{len(t.requests)} request(s), {n_err} error(s), {n_warn} warning(s)")
    return "\n".join(printable(line) for line in out)
