"""Modules that change what later modules and Pivot requests see."""

from __future__ import annotations

from typing import Any

from .._context import CallContext
from .._flow import Continue, Next
from . import module

_CCV_WHITELIST = {"call_priority": "Call-Priority", "group_id": "Group-ID"}


@module("set_variables")
def set_variables(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    cavs = data.get("custom_application_vars") or {}
    if isinstance(cavs, dict) and cavs:
        ctx.state.cavs.update(cavs)
        ctx.event("cavs_set", values=dict(cavs), export=bool(data.get("export", False)))
    return Continue("_")


@module("set_variable")
def set_variable(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    name = str(data.get("variable", ""))
    if name in _CCV_WHITELIST:
        ctx.event("channel_var_set", variable=_CCV_WHITELIST[name], value=data.get("value"))
    else:
        ctx.diag("warning", "set_variable.ignored",
                 f"set_variable only honours call_priority and group_id; {name!r} is ignored. "
                 "To send a value to Pivot use set_variables (Custom Application Vars)",
                 path=ctx.node_path + ".data.variable")
    return Continue("_")


@module("set")
def set_(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    ctx.state.kvs["cf_agent_skills"] = dict(data)
    ctx.event("agent_skills_set", values={k: v for k, v in data.items() if k != "skip_module"})
    return Continue("_")


def _normalise(key: str) -> str:
    return key.lower().replace("-", "_")


@module("branch_variable")
def branch_variable(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    name = str(data.get("variable", ""))
    scope = str(data.get("scope") or "custom_channel_vars")
    scopes = ctx.fixtures.variables or {}
    if scope == "merged":
        source: dict[str, Any] = {}
        for s in ("account", "user", "device"):
            source.update(scopes.get(s) or {})
    else:
        source = dict(scopes.get(scope) or {})
    if scope == "custom_channel_vars":
        source = {_normalise(k): v for k, v in source.items()}
        name_key = _normalise(name)
    else:
        name_key = name
    value = source.get(name_key)
    if value is None:
        if name in ctx.state.cavs:
            ctx.diag("warning", "branch_variable.no_cav_scope",
                     f"{name!r} is a Custom Application Var, but branch_variable has no CAV scope: "
                     "Kazoo does not see it and takes the _ child", path=ctx.node_path + ".data.variable")
        ctx.event("branch_variable", variable=name, scope=scope, value=None)
        return Continue("_")
    key = "true" if value is True else "false" if value is False else str(value)
    ctx.event("branch_variable", variable=name, scope=scope, value=key)
    return Continue(key)


@module("language")
def language(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    lang = data.get("language")
    if lang:
        ctx.state.language = str(lang)
        ctx.event("language", language=str(lang))
    return Continue("_")


@module("set_cid")
def set_cid(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    for key in ("caller_id_name", "caller_id_number"):
        value = data.get(key, "")
        kvs_key = "rewrite_cid_" + key.rsplit("_", 1)[1]
        if value:
            ctx.state.kvs[kvs_key] = value
        else:
            ctx.state.kvs.pop(kvs_key, None)
    ctx.event("cid_rewritten", name=data.get("caller_id_name", ""), number=data.get("caller_id_number", ""),
              note="affects outbound bridges only; Pivot requests keep the original caller id")
    return Continue("_")


@module("prepend_cid")
def prepend_cid(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    kvs = ctx.state.kvs
    if data.get("action") == "reset":
        kvs.pop("prepend_cid_name", None)
        kvs.pop("prepend_cid_number", None)
    else:
        for key in ("name", "number"):
            prefix = data.get(f"caller_id_{key}_prefix")
            if prefix:
                kvs[f"prepend_cid_{key}"] = str(prefix) + str(kvs.get(f"prepend_cid_{key}", ""))
    ctx.event("cid_prepended", name=kvs.get("prepend_cid_name"), number=kvs.get("prepend_cid_number"))
    return Continue("_")
