"""Document validation with Kazoo's defaults, type fixing and error shapes.

A deliberately small JSON-Schema subset (the keywords the Crossbar documents pivotsim
fakes use), because what matters is matching Kazoo's behaviour, not the spec:
defaults are written into the document (jesse ``use_defaults``), strings such as
``"5"`` or ``"true"`` are converted when the schema wants a number or boolean
(``fix_js_types``), every error is reported, and messages are kz_json_schema's.
The field lists are pivotsim's own, written from crossbar-facts sections 2 to 5.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ValidationErrors
from .util import json_copy

Schema = dict[str, Any]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}


def _is_type(value: Any, name: str) -> bool:
    if name in ("number", "integer") and isinstance(value, bool):
        return False
    if name == "integer" and isinstance(value, float):
        return False
    return isinstance(value, _TYPES[name])


def fix_type(value: Any, name: str) -> tuple[bool, Any]:
    """kz_json_schema:fix_js_types: convert to integer/number/boolean where Kazoo would."""
    if name == "integer":
        if isinstance(value, float) and value == value and abs(value) != float("inf"):
            return True, round(value)
        if isinstance(value, str):
            try:
                return True, int(value.strip())
            except ValueError:
                return False, value
    elif name == "number":
        if isinstance(value, str):
            text = value.strip()
            for conv in (int, float):
                try:
                    out = conv(text)
                except ValueError:
                    continue
                if out == out and abs(out) != float("inf"):
                    return True, out
    elif name == "boolean" and isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "false"):
            return True, low == "true"
    return False, value


def _types_text(t: str | list[str]) -> str:
    return t if isinstance(t, str) else ", ".join(t)


def validate(schema: Schema, value: Any, errs: ValidationErrors, path: tuple[Any, ...] = ()) -> Any:
    """Validate ``value``; return it with defaults filled and types fixed; add errors to ``errs``."""
    want = schema.get("type")
    if want is not None:
        names = [want] if isinstance(want, str) else list(want)
        if not any(_is_type(value, n) for n in names):
            fixed = False
            if len(names) == 1:
                fixed, value = fix_type(value, names[0])
            if not fixed:
                errs.add(
                    path,
                    "type",
                    {
                        "message": f"Value did not match type(s): {_types_text(want)}",
                        "target": _types_text(want),
                        "value": value,
                    },
                )
                return value
    if isinstance(value, dict):
        value = _validate_object(schema, value, errs, path)
    elif isinstance(value, list):
        value = _validate_array(schema, value, errs, path)
    if "enum" in schema and value not in schema["enum"]:
        errs.add(
            path,
            "enum",
            {
                "message": "Value not found in enumerated list of values",
                "target": schema["enum"],
                "value": value,
            },
        )
    if isinstance(value, str):
        _validate_string(schema, value, errs, path)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _validate_number(schema, value, errs, path)
    return value


def _validate_string(schema: Schema, value: str, errs: ValidationErrors, path: tuple[Any, ...]) -> None:
    n = len(value)
    if "maxLength" in schema and n > schema["maxLength"]:
        m = schema["maxLength"]
        errs.add(
            path,
            "maxLength",
            {"message": f"String must not be more than {m} characters", "target": m, "cause": value, "value": value},
        )
    if "minLength" in schema and n < schema["minLength"]:
        m = schema["minLength"]
        errs.add(
            path,
            "minLength",
            {"message": f"String must be at least {m} characters", "target": m, "cause": value, "value": value},
        )
    pattern = schema.get("pattern")
    if pattern is not None and re.search(pattern, value) is None:
        errs.add(
            path,
            "pattern",
            {"message": f"Failed to match pattern '{pattern}'", "target": pattern, "value": value},
        )


def _validate_number(schema: Schema, value: float, errs: ValidationErrors, path: tuple[Any, ...]) -> None:
    if "maximum" in schema and value > schema["maximum"]:
        m = schema["maximum"]
        errs.add(path, "maximum", {"message": f"Value must be at most {m}", "target": m, "value": value})
    if "minimum" in schema and value < schema["minimum"]:
        m = schema["minimum"]
        errs.add(path, "minimum", {"message": f"Value must be at least {m}", "target": m, "value": value})


def _validate_object(schema: Schema, value: dict[str, Any], errs: ValidationErrors, path: tuple[Any, ...]) -> dict[str, Any]:
    props: dict[str, Schema] = schema.get("properties", {})
    patterns: dict[str, Schema] = schema.get("patternProperties", {})
    out = dict(value)
    if schema.get("additionalProperties") is False:
        for key in value:
            if key not in props and not any(re.search(p, key) for p in patterns):
                errs.add(
                    (*path, key),
                    "additionalProperties",
                    {
                        "message": "Strict checking of data is enabled; only include schema-defined properties",
                        "value": value[key],
                    },
                )
    for pattern, sub in patterns.items():
        for key in value:
            if key not in props and re.search(pattern, key):
                out[key] = validate(sub, out[key], errs, (*path, key))
    for key, sub in props.items():
        if key in out:
            out[key] = validate(sub, out[key], errs, (*path, key))
        elif "default" in sub:
            out[key] = json_copy(sub["default"])
    for key in schema.get("required", ()):
        if key not in value:
            errs.add((*path, key), "required", {"message": "Field is required but missing", "value": value})
    return out


def _validate_array(schema: Schema, value: list[Any], errs: ValidationErrors, path: tuple[Any, ...]) -> list[Any]:
    items = schema.get("items")
    out = value
    if isinstance(items, dict):
        out = [validate(items, v, errs, (*path, i)) for i, v in enumerate(value)]
    if schema.get("uniqueItems"):
        seen: list[Any] = []
        for v in out:
            if v in seen:
                errs.add(path, "uniqueItems", {"message": "List of items is not unique", "value": out})
                break
            seen.append(v)
    return out


def check(schema: Schema, data: Any, path: tuple[Any, ...] = ()) -> tuple[Any, ValidationErrors]:
    errs = ValidationErrors()
    out = validate(schema, data, errs, path)
    return out, errs


# -- pivotsim's own document schemas (from crossbar-facts; not Kazoo's files) ---------------


def _s(**kw: Any) -> Schema:
    return {"type": "string", **kw}


def _b(**kw: Any) -> Schema:
    return {"type": "boolean", **kw}


def _i(**kw: Any) -> Schema:
    return {"type": "integer", **kw}


_STRINGS: Schema = {"type": "array", "items": _s()}

USER_AUTH: Schema = {
    "type": "object",
    "required": ["credentials"],
    "properties": {
        "account_name": _s(minLength=1, maxLength=128),
        "account_realm": _s(minLength=4, maxLength=253, pattern=r"^[.\w_-]+$"),
        "credentials": _s(minLength=1, maxLength=64),
        "method": _s(enum=["md5", "sha"], default="md5"),
        "phone_number": _s(minLength=1, maxLength=64),
    },
}

API_AUTH: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["api_key"],
    "properties": {"api_key": _s(minLength=64, maxLength=64)},
}

ACCOUNT: Schema = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "enabled": _b(),
        "language": _s(),
        "name": _s(minLength=1, maxLength=128),
        "realm": _s(minLength=4, maxLength=253, pattern=r"^[0-9A-Za-z\-.:_]+$"),
        "timezone": _s(),
    },
}

USER: Schema = {
    "type": "object",
    "required": ["first_name", "last_name"],
    "properties": {
        "email": _s(minLength=3, maxLength=254),
        "enabled": _b(default=True),
        "first_name": _s(minLength=1, maxLength=128),
        "last_name": _s(minLength=1, maxLength=128),
        "password": _s(),
        "presence_id": _s(),
        "priv_level": _s(enum=["user", "admin"], default="user"),
        "username": _s(minLength=1, maxLength=256),
    },
}

_GATEWAY: Schema = {
    "type": "object",
    "required": ["server"],
    "properties": {
        "bypass_media": _b(),
        "caller_id_type": _s(enum=["internal", "external", "emergency"]),
        "channel_selection": _s(enum=["ascending", "descending"], default="ascending"),
        "codecs": {
            "type": "array",
            "items": _s(
                enum=[
                    "G729", "PCMU", "PCMA", "G722_16", "G722_32", "CELT_48", "CELT_64",
                    "Speex", "GSM", "OPUS", "H261", "H263", "H264", "VP8",
                ]
            ),
        },
        "custom_sip_headers": {"type": "object"},
        "enabled": _b(default=True),
        "endpoint_type": _s(enum=["sip", "freetdm", "skype", "amqp"], default="sip"),
        "force_port": _b(default=False),
        "format_from_uri": _b(),
        "from_uri_realm": _s(),
        "invite_format": _s(
            enum=["route", "username", "e164", "npan", "1npan", "strip_plus"], default="route"
        ),
        "invite_parameters": {
            "type": "object",
            "properties": {"dynamic": {"type": "array"}, "static": _STRINGS},
        },
        "media": {"type": "object", "properties": {"fax_option": _b(), "rtcp_mux": _b()}},
        "password": _s(maxLength=32),
        "port": _i(default=5060),
        "prefix": _s(maxLength=64),
        "progress_timeout": _i(),
        "realm": _s(maxLength=64),
        "route": _s(),
        "server": _s(minLength=1, maxLength=128),
        "skype_rr": _b(default=True),
        "suffix": _s(maxLength=64),
        "username": _s(maxLength=32),
    },
}

RESOURCE: Schema = {
    "type": "object",
    "required": ["gateways", "name"],
    "properties": {
        "caller_id_options": {
            "type": "object",
            "properties": {"type": _s(enum=["internal", "external", "emergency"])},
        },
        "cid_rules": _STRINGS,
        "classifiers": {"type": "object"},
        "emergency": _b(default=False),
        "enabled": _b(default=True),
        "flags": {"type": "array", "items": _s(), "default": []},
        "flat_rate_blacklist": _s(),
        "flat_rate_whitelist": _s(),
        "format_from_uri": _b(),
        "formatters": {"type": "object"},
        "from_account_realm": _b(default=False),
        "from_uri_realm": _s(),
        "gateway_strategy": _s(enum=["sequential", "random"]),
        "gateways": {"type": "array", "items": _GATEWAY},
        "grace_period": _i(default=5, minimum=1, maximum=20),
        "ignore_flags": _b(),
        "name": _s(minLength=1, maxLength=128),
        "require_flags": _b(),
        "rules": {"type": "array", "items": _s(), "default": []},
        "rules_test": {"type": "array", "items": _s(), "default": []},
        "weight_cost": _i(default=50, minimum=0, maximum=100),
    },
}

CLICKTOCALL: Schema = {
    "type": "object",
    "required": ["extension", "name"],
    "properties": {
        "auth_required": _b(default=True),
        "bypass_media": {"type": ["boolean", "string"]},
        "caller_id_number": _s(),
        "custom_application_vars": {
            "type": "object",
            "default": {},
            "patternProperties": {r"[a-zA-Z0-9\-_]+": _s()},
        },
        "custom_sip_headers": {"type": "object"},
        "dial_first": _s(enum=["extension", "contact"]),
        "extension": _s(),
        "media": {"type": "object", "properties": {"ignore_early_media": _b()}},
        "music_on_hold": {"type": "object", "properties": {"media_id": _s(maxLength=2048)}},
        "name": _s(minLength=1, maxLength=128),
        "outbound_callee_id_name": _s(),
        "outbound_callee_id_number": _s(),
        "presence_id": _s(),
        "ringback": _s(),
        "throttle": _i(),
        "timeout": _i(),
        "whitelist": {"type": "array", "items": _s(minLength=1)},
    },
}

#: The callflow document without ``flow``: that node is checked by pivotsim's FlowValidator.
CALLFLOW: Schema = {
    "type": "object",
    "properties": {
        "featurecode": {
            "type": "object",
            "properties": {
                "name": _s(minLength=1, maxLength=128),
                "number": _s(minLength=1, maxLength=30),
            },
        },
        "flags": _STRINGS,
        "metaflow": {"type": "object"},
        "name": _s(),
        "numbers": {
            "type": "array",
            "default": [],
            "uniqueItems": True,
            "items": _s(minLength=1, maxLength=36),
        },
        "patterns": {"type": "array", "default": [], "items": _s(minLength=1)},
        "ringback": {"type": "object", "properties": {"early": _s(), "transfer": _s()}},
    },
}
