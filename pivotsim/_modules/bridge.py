"""Ringing someone: user, device, ring_group, and carriers (resources, offnet)."""

from __future__ import annotations

from typing import Any

from .._context import CallContext
from .._fixtures import BridgeOutcome
from .._flow import Continue, Goto, Next, Stop
from . import module


def _ring(ctx: CallContext, target: str, outcome: BridgeOutcome, timeout_s: int | None) -> None:
    ctx.event("bridge_attempt", target=target, timeout_s=timeout_s)
    if outcome.answered:
        ctx.wait(outcome.ring_ms)
        ctx.answer()
        ctx.event("bridged", target=target)
        ctx.wait(outcome.talk_ms)
        ctx.event("bridge_ended", target=target, cause=outcome.cause)
    else:
        ring = outcome.ring_ms
        if outcome.cause == "NO_ANSWER" and timeout_s:
            ring = timeout_s * 1000
        ctx.wait(ring)
        ctx.event("bridge_failed", target=target, cause=outcome.cause, code=outcome.code)


def _failure_child(ctx: CallContext, children: dict[str, Any], outcome: BridgeOutcome) -> Next | None:
    """cf_util:handle_bridge_failure: the cause child first, then the SIP code child."""
    for key in (outcome.cause, str(outcome.code) if outcome.code is not None else None):
        if key and children.get(key):
            return Goto(key)
    return None


def _endpoint(ctx: CallContext, kind: str, data: dict[str, Any], children: dict[str, Any]) -> Next:
    ident = str(data.get("id", ""))
    docs = ctx.fixtures.users if kind == "user" else ctx.fixtures.devices
    if docs and ident not in docs:
        ctx.diag("warning", f"{kind}.not_found",
                 f"{kind} {ident!r} is not in the fixtures: no endpoints, Kazoo continues to _",
                 path=ctx.node_path + ".data.id")
        return Continue("_")
    timeout = data.get("timeout", 20)
    timeout = timeout if isinstance(timeout, int) and timeout > 0 else 20
    outcome = ctx.fixtures.outcome(f"{kind}:{ident}", kind)
    _ring(ctx, f"{kind}:{ident}", outcome, timeout)
    if outcome.answered:
        return Stop(ctx.end("bridged", f"answered by {kind} {ident}", target=f"{kind}:{ident}",
                            hangup_cause=outcome.cause))
    return _failure_child(ctx, children, outcome) or Continue("_")


@module("user")
def user(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    return _endpoint(ctx, "user", data, children)


@module("device")
def device(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    return _endpoint(ctx, "device", data, children)


@module("ring_group")
def ring_group(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    endpoints = data.get("endpoints") or []
    if not endpoints:
        ctx.diag("warning", "ring_group.no_endpoints", "the ring group has no endpoints: Kazoo continues to _",
                 path=ctx.node_path + ".data.endpoints")
        return Continue("_")
    repeats = data.get("repeats", 1)
    repeats = repeats if isinstance(repeats, int) and repeats > 0 else 1
    timeout = data.get("timeout", 20)
    timeout = timeout if isinstance(timeout, int) and timeout > 0 else 20
    targets = [f"{e.get('endpoint_type', 'device')}:{e.get('id')}" for e in endpoints if isinstance(e, dict)]
    for _ in range(repeats):
        outcome = ctx.fixtures.outcome("ring_group", *targets)
        _ring(ctx, "ring_group:" + ",".join(targets), outcome, timeout)
        if outcome.answered:
            return Stop(ctx.end("bridged", "answered in the ring group", target="ring_group",
                                hangup_cause=outcome.cause))
        handled = _failure_child(ctx, children, outcome)
        if handled:
            return handled
    return Continue("_")


def _carrier(ctx: CallContext, data: dict[str, Any], children: dict[str, Any], name: str) -> Next:
    number = str(data.get("to_did") or ctx.state.props.request_user or "")
    outcome = ctx.fixtures.outcome(f"offnet:{number}", "offnet", name)
    timeout = data.get("timeout")
    _ring(ctx, f"offnet:{number}", outcome, timeout if isinstance(timeout, int) else None)
    if outcome.answered or outcome.cause in ("SUCCESS", "NORMAL_CLEARING"):
        return Stop(ctx.end("bridged", f"answered by {number} through the carrier", target=f"offnet:{number}",
                            hangup_cause=outcome.cause))
    handled = _failure_child(ctx, children, outcome)
    if handled:
        return handled
    if children.get("_"):
        ctx.diag("info", f"{name}.no_failure_child",
                 f"the carrier failed with {outcome.cause} ({outcome.code}) and no child is keyed by that "
                 "cause or code: Kazoo hangs up with that cause; the _ child is NOT used",
                 path=ctx.node_path + ".children")
    return Stop(ctx.end("hangup", f"carrier failure {outcome.cause}", hangup_cause=outcome.cause,
                        sip_code=outcome.code))


@module("resources")
def resources(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    return _carrier(ctx, data, children, "resources")


@module("offnet")
def offnet(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    return _carrier(ctx, data, children, "offnet")
