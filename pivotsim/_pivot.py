"""pivot_call: one Pivot session's HTTP requests, and how Kazoo reads each reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from . import _jiffy
from ._context import CallContext
from ._encoding import NullValueError, form_decode
from ._flow import Continue, Exit, HardStop, Next, Replace
from ._request import build_params, encode_request
from ._targets import IN_PROCESS_URL
from ._transcript import BODY_LIMIT, RequestRecord
from ._transports import HTTPRequest, HTTPResponse, TransportError

__all__ = ["PivotSession", "Reply", "classify"]

_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass
class Reply:
    """A reply as Kazoo's translator dispatch sees it.

    ``kind`` is one of: ``kazoo`` (JSON to validate), ``twiml`` (a ``<Response>``),
    ``http_status`` (not 200/206), ``silent`` (status >= 600), ``no_reply``
    (timeout, refused, DNS, too large), ``invalid_url``, ``not_sent`` (a null
    value crashed the encoder), ``empty``, ``json_error``, ``not_recognized``.
    """

    kind: str
    record: RequestRecord
    doc: Any = None
    detail: str = ""


#: A JSON reply nested deeper than Python can parse or validate (Kazoo's Erlang can).
TOO_DEEP = object()


def _xml_types(ctype: str) -> bool:
    return ctype in ("text/xml", "application/xml")


def classify(resp: HTTPResponse, text: str | None, twiml: Any) -> tuple[str, Any, str]:
    """Kazoo's outcome for a complete HTTP response (pivot_call handle_info + kzt_translator)."""
    kind, doc, detail = _classify(resp, text, twiml)
    encoding = resp.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity") and kind in ("json_error", "not_recognized"):
        detail += (f" (the reply is Content-Encoding: {encoding}; Kazoo's httpc neither asks for "
                   "compression nor undoes it, so Kazoo reads the compressed bytes)")
    return kind, doc, detail


def _classify(resp: HTTPResponse, text: str | None, twiml: Any) -> tuple[str, Any, str]:
    status = resp.status
    if status >= 600:
        return "silent", None, f"HTTP {status} is outside httpc's handled range; Kazoo ignores the reply"
    if status not in (200, 206):
        return "http_status", None, f"HTTP {status}: only 200 and 206 count as success for Kazoo"
    if not resp.body:
        return "empty", None, "the 200 reply has an empty body"
    raw_ct = resp.headers.get("content-type")
    ctype = raw_ct.split(";", 1)[0].strip() if raw_ct is not None else None
    if resp.truncated:
        # pivotsim's own limit, not Kazoo's: httpc would buffer it all. Treat it as a body
        # Kazoo cannot read, rather than guess at content pivotsim never saw.
        why = (f"the reply is over {len(resp.body)} bytes, where pivotsim stops reading (its own limit; "
               "Kazoo would buffer it whole), so pivotsim treats it as a body Kazoo cannot read")
        return ("not_recognized" if ctype is None or _xml_types(ctype) else "json_error"), None, why
    if text is None:
        # Invalid UTF-8: Kazoo's JSON decoder rejects it; xmerl would too.
        if ctype is None or _xml_types(ctype):
            return "not_recognized", None, "the body is not valid UTF-8, so it is not a TwiML <Response>"
        return "json_error", None, "the body is not valid UTF-8, so Kazoo cannot decode it as JSON"
    if ctype is None or _xml_types(ctype):
        root, why = twiml.recognize(text)
        label = "no Content-Type (Kazoo treats it as text/xml)" if ctype is None else f"Content-Type {ctype}"
        if root is None:
            return "not_recognized", None, f"{label}: only TwiML is tried, and {why}"
        return "twiml", root, label
    if ctype == "application/json":
        try:
            return "kazoo", _jiffy.loads(text), ""
        except ValueError as exc:
            return "json_error", None, f"invalid JSON: {exc}"
        except RecursionError:
            return "kazoo", TOO_DEEP, ""
    # Any other type: TwiML first, then Kazoo JSON, but a JSON parse error aborts both.
    try:
        doc = _jiffy.loads(text)
    except RecursionError:
        return "kazoo", TOO_DEEP, ""
    except ValueError as exc:
        root, _ = twiml.recognize(text)
        if root is not None:
            return (
                "json_error",
                None,
                f"TwiML served as {ctype} is also parsed as JSON by Kazoo, and that error aborts the "
                "reply (kzt_translator rethrows it). Serve TwiML as text/xml or application/xml",
            )
        return "json_error", None, f"Content-Type {ctype}: invalid JSON: {exc}"
    return "kazoo", doc, f"JSON served as {ctype} (Kazoo accepts it)"


def _nulls_to_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _nulls_to_empty(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulls_to_empty(v) for v in value]
    return "" if value is None else value


class PivotSession:
    """One ``pivot_call`` process: its request settings and the requests it made."""

    def __init__(self, ctx: CallContext, data: dict[str, Any]) -> None:
        opts = ctx.options
        self.ctx = ctx
        self.voice_url = str(data.get("voice_url") or "").strip()
        self.method = str(data.get("method") or "get").lower()
        self.req_format = data.get("req_format") or opts.runtime_req_format
        self.body_format = data.get("req_body_format") or "form"
        timeout = data.get("req_timeout_ms")
        self.timeout_ms = int(timeout) if isinstance(timeout, int) and timeout > 0 else opts.request_timeout_ms
        self.cdr_url = data.get("cdr_url") or None
        self.debug = bool(data.get("debug", False))
        self.iteration = 1
        if "req_format" not in data:
            ctx.diag(
                "warning",
                "pivot.req_format_absent",
                "this pivot node has no req_format, so Kazoo's pivot_call uses its runtime default "
                f"'{self.req_format}' (the schema default 'kazoo' only applies to flows saved "
                "through Crossbar or returned by a Pivot server)",
                path=ctx.node_path + ".data.req_format",
            )

    # -- one HTTP exchange -------------------------------------------------------
    def request(self, url: str, method: str, purpose: str) -> Reply:
        ctx = self.ctx
        state = ctx.state
        try:
            params = build_params(state, self.req_format)
            if ctx.options.null_param == "empty":
                params = _nulls_to_empty(params)
            full_url, headers, body, is_json, pairs = encode_request(params, method, self.body_format, url)
        except NullValueError as exc:
            rec = self._record(purpose, method, url, {}, b"", None)
            rec.error = f"null value at {exc.key}"
            rec.outcome = "not_sent"
            ctx.event("request", index=rec.index, method=rec.method, url=url, purpose=purpose)
            ctx.event("response", index=rec.index, status=None, content_type=None, outcome="not_sent")
            return Reply("not_sent", rec, detail=f"the parameter {exc.key} is null; Kazoo's form encoder has no clause for null and the request is never sent")
        rec = self._record(purpose, method, full_url, headers, body, params if is_json else None, pairs)
        ctx.event("request", index=rec.index, method=rec.method, url=full_url, purpose=purpose)
        current_url, current_method, current_body, current_headers = full_url, method, body, headers
        for _ in range(ctx.options.max_redirects + 1):
            http_req = HTTPRequest(current_method.upper(), current_url, current_headers, current_body, self.timeout_ms)
            try:
                resp = ctx.transport.handle(http_req)
            except TransportError as exc:
                rec.error = f"{exc.kind}: {exc}"
                rec.elapsed_ms = round(exc.elapsed_ms, 3)
                kind = "invalid_url" if exc.kind == "invalid_url" else "no_reply"
                rec.outcome = kind
                ctx.event("response", index=rec.index, status=None, content_type=None, outcome=kind)
                return Reply(kind, rec, detail=exc.kind)
            rec.elapsed_ms = round(rec.elapsed_ms + resp.elapsed_ms, 3)
            location = resp.headers.get("location")
            follow = location and resp.status in _REDIRECTS and (
                current_method == "get" and resp.status in (301, 302, 303, 307)
                or current_method == "post" and resp.status == 303
            )
            if not follow:
                break
            nxt = urljoin(current_url, location or "")
            ctx.event("http_redirect", index=rec.index, status=resp.status, location=nxt)
            rec.response_headers.setdefault("x-pivotsim-redirected-from", current_url)
            current_url, current_method, current_body, current_headers = nxt, "get", b"", {}
        rec.status = resp.status
        rec.response_headers.update(resp.headers)
        rec.content_type = resp.headers.get("content-type")
        rec.body_bytes = len(resp.body)
        try:
            text: str | None = resp.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        shown = text if text is not None else resp.body.decode("utf-8", "replace")
        if len(shown) > BODY_LIMIT:
            shown, rec.body_truncated = shown[:BODY_LIMIT], True
        rec.body = shown
        if resp.note:
            rec.error = resp.note
        from . import _twiml

        kind, doc, detail = classify(resp, text, _twiml)
        rec.outcome = kind
        ctx.event("response", index=rec.index, status=resp.status, content_type=rec.content_type, outcome=kind)
        return Reply(kind, rec, doc, detail)

    def _record(
        self, purpose: str, method: str, url: str, headers: dict[str, str], body: bytes, json_params: Any,
        pairs: list[list[str]] | None = None,
    ) -> RequestRecord:
        ctx = self.ctx
        idx = len(ctx.transcript.requests)
        rec = RequestRecord(
            index=idx,
            t_ms=ctx.now,
            purpose=purpose,
            req_format=self.req_format,
            method=method.upper(),
            url=url,
            headers=dict(headers),
            node_path=ctx.node_path,
        )
        rec.debug = self.debug
        rec.iteration = self.iteration
        rec.timeout_ms = self.timeout_ms
        if json_params is not None:
            rec.json = json_params
            rec.body_sent = body.decode()
        else:
            if method != "get":
                rec.body_sent = body.decode()
            rec.params = pairs if pairs is not None else form_decode(
                urlsplit(url).query if method == "get" else rec.body_sent)
        ctx.transcript.requests.append(rec)
        return rec

    # -- the first request of a pivot node (cf_pivot's view) ------------------------
    def wait_then_default(self, why: str) -> Next:
        """cf_pivot heard nothing: it waits out DEFAULT_EVENT_WAIT, then goes to ``_``."""
        ctx = self.ctx
        ctx.wait(ctx.options.pivot_event_wait_ms)
        ctx.event("pivot_wait_expired", waited_ms=ctx.options.pivot_event_wait_ms, why=why)
        return Continue("_")

    def run_first(self) -> Next:
        ctx = self.ctx
        if not self.voice_url:
            ctx.diag(
                "error",
                "pivot.no_voice_url",
                "the pivot node has no voice_url: publishing the pivot request fails, cf_pivot crashes "
                "and cf_exe continues to the _ child",
                path=ctx.node_path + ".data.voice_url",
            )
            return Continue("_")
        reply = self.request(self.voice_url, self.method, "voice_url")
        return self.on_first_reply(reply)

    def on_first_reply(self, reply: Reply) -> Next:
        ctx = self.ctx
        rec = reply.record
        k = reply.kind
        from . import _twiml

        _twiml.first_reply_hook(self, reply)  # cdr_url duty, X-Twilio-Signature hint
        if k == "http_status":
            ctx.diag("warning", "reply.http_status",
                     f"{reply.detail}. Kazoo publishes pivot.failed and cf_pivot takes the _ child at once",
                     request=rec.index)
            if rec.status == 404 and rec.index == 0 and rec.url.split("?", 1)[0] == IN_PROCESS_URL:
                ctx.diag("info", "pivotsim.default_voice_url",
                         f"the call went to {IN_PROCESS_URL}, pivotsim's voice_url for an in-process app "
                         "when none is given; if your app answers on another route, name it: "
                         "--voice-url /voice (node: {voice_url: /voice} in a scenario)", request=rec.index)
            return Continue("_")
        if k == "invalid_url":
            ctx.diag("error", "request.invalid_url",
                     f"httpc rejects the URL {rec.url!r} ({reply.detail}); Kazoo takes the _ child at once",
                     request=rec.index)
            return Continue("_")
        if k == "no_reply" and rec.error and rec.error.split(":")[0] in ("connect", "dns") \
                and ctx.options.connect_error == "failed":
            ctx.diag("warning", "reply.no_reply",
                     f"no HTTP reply ({rec.error}); with connect_error=failed pivotsim assumes Kazoo "
                     "publishes pivot.failed and takes the _ child at once", request=rec.index)
            return Continue("_")
        if k in ("no_reply", "silent", "not_sent"):
            what = {
                "no_reply": f"no HTTP reply ({rec.error}). pivot_call only logs this, no failure is published",
                "silent": f"{reply.detail}",
                "not_sent": reply.detail,
            }[k]
            ctx.diag("warning", f"reply.{k}",
                     f"{what}; cf_pivot waits {ctx.options.pivot_event_wait_ms // 1000} s in silence, then takes the _ child",
                     request=rec.index)
            return self.wait_then_default(k)
        if k in ("empty", "json_error"):
            if k == "json_error":
                rec.json_errors = True
            msg = reply.detail if k == "json_error" else "an empty 200 reply"
            if self.cdr_url:
                ctx.diag("warning", f"reply.{k}",
                         f"{msg}: pivot_call stops, but with a cdr_url set it does not hang up; "
                         "cf_pivot times out after 10 s and takes the _ child", request=rec.index)
                return self.wait_then_default(k)
            ctx.diag("error", f"reply.{k}",
                     f"{msg}: Kazoo hangs up the call (it does not take the _ child, whatever the docs say)",
                     request=rec.index)
            return HardStop(ctx.end("hangup", f"Kazoo hung up: {msg}", hangup_cause="NORMAL_CLEARING"))
        if k == "not_recognized":
            if self.cdr_url or ctx.options.unrecognized_reply == "default":
                ctx.diag("warning", "reply.not_recognized",
                         f"{reply.detail}: pivot.failed is published and cf_pivot takes the _ child",
                         request=rec.index)
                return Continue("_")
            ctx.diag("error", "reply.not_recognized",
                     f"{reply.detail}: Kazoo publishes pivot.failed and hangs up at the same moment; "
                     "the hangup wins", request=rec.index)
            return HardStop(ctx.end("hangup", f"Kazoo hung up: {reply.detail}", hangup_cause="NORMAL_CLEARING"))
        if k == "kazoo":
            if reply.detail:
                ctx.diag("info", "reply.content_type", reply.detail, request=rec.index)
            return self.run_kazoo(reply)
        if k == "twiml":
            from . import _twiml

            return _twiml.run_session(self, reply)
        raise AssertionError(k)  # pragma: no cover

    def run_kazoo(self, reply: Reply) -> Next:
        ctx = self.ctx
        rec = reply.record
        try:
            if reply.doc is TOO_DEEP:
                raise RecursionError
            result = ctx.validator.validate_node(reply.doc)
        except RecursionError:
            ctx.diag("error", "pivotsim.too_deep",
                     "the reply nests callflow nodes too deeply for pivotsim to validate (Python's "
                     "recursion limit); Kazoo would still walk it. Flatten the reply or pivot more often",
                     request=rec.index)
            return HardStop(ctx.end("error", "reply nested too deeply for pivotsim"))
        for w in result.warnings:
            ctx.diag("warning", f"schema.{w.keyword}", w.message, path=w.dotted, request=rec.index)
        if result.errors:
            for e in result.errors:
                ctx.diag("error", f"schema.{e.keyword}", e.message, path=e.dotted, request=rec.index)
            rec.outcome = "schema_invalid"
            if not ctx.options.faithful:
                ctx.event("intended_behaviour", what="schema-invalid reply takes the _ child (docs)")
                return Continue("_")
            n = len(result.errors)
            first = result.errors[0]
            return Exit(ctx.end(
                "dead_air",
                f"dead air: {first.message}"
                + (f" (and {n - 1} more schema error{'s' if n > 2 else ''})" if n > 1 else "")
                + ". Kazoo already published pivot.processing, then its response worker crashes on the "
                "double error conversion (a Kazoo bug): no _ child, no hangup",
            ))
        ctx.reply_count += 1
        label = f"reply[{rec.index}]"
        ctx.event("flow_replaced", request=rec.index, module=result.node.get("module"))
        return Replace(result.node, label)
