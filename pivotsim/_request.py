"""The Pivot request exactly as Kazoo builds it (kzt_kazoo/kzt_twiml req_params, pivot_call send_req)."""

from __future__ import annotations

from typing import Any

from ._call import CallState
from ._encoding import form_decode, form_encode, json_encode

__all__ = ["build_params", "encode_request"]

# ReqVars: always TwiML-style names, even in kazoo mode (kzt_util:get_request_vars).
_REQ_VAR_KEYS = (
    ("Digits", "digits_collected"),
    ("RecordingUrl", "recording_url"),
    ("RecordingDuration", "recording_duration"),
    ("DialCallStatus", "dial_call_status"),
    ("DialCallSid", "dial_call_sid"),
    ("DialCallDuration", "dial_call_duration"),
    ("QueueSid", "queue_sid"),
    ("CallStatus", "call_status"),
)


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _digits(state: CallState) -> Any:
    pressed = state.kvs.get("digit_pressed")
    if pressed is not None:
        return pressed
    return state.dtmf_collections


def kazoo_base(state: CallState) -> dict[str, Any]:
    p = state.props
    kvs = state.kvs
    user_id: Any = None
    if len(p.user_ids) == 1:
        user_id = p.user_ids[0]
    elif p.user_ids:
        user_id = list(p.user_ids)
    base = {
        "Account-ID": p.account_id,
        "Api-Version": "4.x",
        "Call-ID": p.call_id,
        "Call-Status": kvs.get("call_status"),
        "Caller-ID-Name": p.caller_id_name,
        "Caller-ID-Number": p.caller_id_number,
        "Custom-Application-Vars": state.cavs,
        "Custom-SIP-Headers": state.sip_headers,
        "Digits": _digits(state),
        "Direction": "inbound",
        "From": p.from_user,
        "From-Realm": p.from_realm,
        "Language": state.language,
        "Recording-Duration": kvs.get("recording_duration"),
        "Recording-ID": kvs.get("recording_id"),
        "Recording-Url": kvs.get("recording_url"),
        "Request": p.request_user,
        "Request-Realm": p.request_realm,
        "To": p.to_user,
        "To-Realm": p.to_realm,
        "User-ID": user_id,
    }
    return {k: v for k, v in base.items() if _present(v) or isinstance(v, dict)}


def twiml_base(state: CallState) -> dict[str, Any]:
    p = state.props
    kvs = state.kvs
    base = {
        "AccountSid": p.account_id,
        "ApiVersion": "2010-04-01",
        "CallSid": p.call_id,
        "CallStatus": kvs.get("call_status"),
        "CallerName": p.caller_id_name,
        "CallerNumber": p.caller_id_number,
        "DialCallSid": kvs.get("dial_call_sid"),
        "DialCallStatus": kvs.get("dial_call_status"),
        "Digits": _digits(state),
        "Direction": "inbound",
        "From": p.from_user,
        "FromRealm": p.from_realm,
        "QueueSid": kvs.get("queue_sid"),
        "RecordingDuration": kvs.get("recording_duration"),
        "RecordingUrl": kvs.get("recording_url"),
        "To": p.to_user,
        "ToRealm": p.to_realm,
    }
    return {k: v for k, v in base.items() if _present(v) or (k == "Digits" and isinstance(v, dict))}


def build_params(state: CallState, req_format: str) -> dict[str, Any]:
    """The request parameters, then forget Gather digits (sent exactly once).

    Precedence (pivot_call:send_req): the base fields win over ReqVars, which win
    over ``<Set>`` user vars. Keys are sorted: Kazoo's order is unspecified and a
    stable order keeps transcripts comparable.
    """
    base = kazoo_base(state) if req_format == "kazoo" else twiml_base(state)
    kvs = state.kvs
    # kz_json:from_list drops only undefined: an empty Digits (a Gather that got nothing) is sent.
    req_vars = {name: kvs[key] for name, key in _REQ_VAR_KEYS if kvs.get(key) is not None}
    merged = {**state.user_vars, **req_vars, **base} if (state.user_vars or req_vars) else base
    kvs.pop("digits_collected", None)
    return dict(sorted(merged.items()))


def encode_request(
    params: dict[str, Any], method: str, body_format: str, url: str
) -> tuple[str, dict[str, str], bytes, bool, list[list[str]] | None]:
    """Returns ``(url, headers, body, is_json, pairs)``. GET always uses the query string.

    ``pairs`` are the decoded ``[key, value]`` pairs of the query or form body as a
    server sees them (a query already in ``voice_url`` first); None for JSON.
    """
    if method != "get" and body_format == "json":
        return url, {"Content-Type": "application/json"}, json_encode(params).encode(), True, None
    pairs: list[list[str]] = []
    if method == "get":
        _, _, existing = url.partition("?")
        if existing:
            pairs.extend(form_decode(existing.split("#", 1)[0]))
        qs = form_encode(params, pairs)
        sep = "&" if "?" in url else "?"
        return f"{url}{sep}{qs}", {}, b"", False, pairs
    body = form_encode(params, pairs)
    return url, {"Content-Type": "application/x-www-form-urlencoded"}, body.encode(), False, pairs
