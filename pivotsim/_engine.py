"""cf_exe: walks a callflow, node by node, until the call ends."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ._call import CallProperties, CallState
from ._caller import Caller
from ._clock import CallerHungUp
from ._context import CallContext
from ._fixtures import Fixtures
from ._flow import Branch, Continue, Exit, Goto, HardStop, Replace, Stop
from ._modules import REGISTRY
from ._options import Options
from ._transcript import End, Transcript
from ._transports import BaseTransport

__all__ = ["Engine", "pivot_flow"]


def pivot_flow(
    voice_url: str,
    *,
    method: str = "get",
    req_format: str | None = "kazoo",
    req_body_format: str | None = None,
    req_timeout_ms: int | None = None,
    cdr_url: str | None = None,
    debug: bool | None = None,
    children: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The callflow of a number whose only node is ``pivot`` (as saved through Crossbar)."""
    data: dict[str, Any] = {"voice_url": voice_url, "method": method}
    for key, value in (
        ("req_format", req_format),
        ("req_body_format", req_body_format),
        ("req_timeout_ms", req_timeout_ms),
        ("cdr_url", cdr_url),
        ("debug", debug),
    ):
        if value is not None:
            data[key] = value
    node: dict[str, Any] = {"module": "pivot", "data": data}
    if children:
        node["children"] = children
    return node


class Engine:
    """A simulated Kazoo. Create one per target; :meth:`run` places one call.

    ``transport`` carries Kazoo's HTTP requests to the Pivot server; ``validator``
    checks replies as Kazoo's schemas do (a :class:`pivotsim.FlowValidator`).
    The engine is deterministic: same flow, call, caller, fixtures and replies,
    same transcript (except the measured ``elapsed_ms``).
    """

    def __init__(
        self,
        transport: BaseTransport,
        *,
        validator: Any = None,
        options: Options | None = None,
    ) -> None:
        self.transport = transport
        self.options = options or Options()
        if validator is None:
            from ._schemas import FlowValidator

            validator = FlowValidator(strict_blacklist=self.options.strict_blacklist)
        self.validator = validator

    def run(
        self,
        flow: dict[str, Any],
        *,
        call: CallProperties | None = None,
        caller: Caller | None = None,
        fixtures: Fixtures | None = None,
        on_end: Callable[[CallContext, End], None] | None = None,
    ) -> Transcript:
        props = (call or CallProperties()).resolved()
        caller = caller or Caller()
        transcript = Transcript(call=props.to_dict())
        ctx = CallContext(
            CallState(props),
            caller.cursor(),
            fixtures or Fixtures(),
            self.options,
            self.transport,
            self.validator,
            transcript,
        )
        try:
            end = self._walk(ctx, copy.deepcopy(flow), "callflow")
        except CallerHungUp:
            end = ctx.end("caller_hangup", "the caller hung up")
        except Exception as exc:  # never a traceback for the user: record and end
            ctx.diag("error", "pivotsim.internal", f"pivotsim failed: {type(exc).__name__}: {exc}")
            end = ctx.end("error", f"pivotsim failed: {type(exc).__name__}: {exc}")
        for fin in ctx.finalizers:
            try:
                fin(end)
            except Exception as exc:
                ctx.diag("error", "pivotsim.internal", f"pivotsim failed at call end: {type(exc).__name__}: {exc}")
        if on_end is not None:
            on_end(ctx, end)
        ctx.event("end", reason=end.reason)
        transcript.end = end
        state = ctx.state
        transcript.final_state = {
            "custom_application_vars": copy.deepcopy(state.cavs),
            "dtmf_collections": copy.deepcopy(state.dtmf_collections),
            "language": state.language,
            "answered": state.answered,
            "user_vars": dict(state.user_vars),
        }
        return transcript

    def _walk(self, ctx: CallContext, flow: dict[str, Any], label: str) -> End:
        opts = ctx.options
        stack: list[tuple[dict[str, Any] | None, str]] = []
        branches_left = opts.max_branch_count
        node: dict[str, Any] | None = flow
        path = label
        while True:
            ctx.steps += 1
            if ctx.steps > opts.max_steps:
                ctx.diag("error", "pivotsim.step_limit",
                         f"the call ran {opts.max_steps} steps without ending (a flow or Pivot loop that "
                         "never ends?); raise --max-steps if this is intended")
                return ctx.end("step_limit", f"stopped after {opts.max_steps} steps")
            if not node or not isinstance(node, dict) or not node.get("module"):
                nxt: Any = Stop()
            else:
                ctx.node_path = path
                module = str(node["module"])
                data = node.get("data") or {}
                children = node.get("children") or {}
                if not isinstance(children, dict):
                    children = {}
                if isinstance(data, dict) and data.get("skip_module") is True:
                    ctx.event("module", module=module, path=path, skipped=True)
                    nxt = Continue("_")
                else:
                    handler = REGISTRY.get(module)
                    ctx.event("module", module=module, path=path)
                    if handler is None:
                        ctx.diag("warning", "module.not_simulated",
                                 f"pivotsim does not simulate the {module!r} module; it continues to _",
                                 path=path)
                        nxt = Continue("_")
                    else:
                        nxt = handler(ctx, data if isinstance(data, dict) else {}, children)
            # -- what cf_exe does with the module's answer --
            if isinstance(nxt, (Continue, Goto)):
                kids = node.get("children") if node else None
                kids = kids if isinstance(kids, dict) else {}
                key = nxt.key
                child = kids.get(key)
                if isinstance(nxt, Continue) and not child and key != "_":
                    child, key = kids.get("_"), "_"
                if child:
                    if key != "_" or isinstance(nxt, Goto):
                        ctx.event("branch", key=key, path=path)
                    node, path = child, f"{path}.children.{key}"
                    continue
                nxt = Stop(ctx.end("hangup", f"the flow ended: no {key!r} child after {node.get('module') if node else 'an empty node'}"))
            if isinstance(nxt, Branch):
                if branches_left <= 0:
                    ctx.diag("error", "cf_exe.branch_limit",
                             f"more than {opts.max_branch_count} callflow branches: cf_exe stops the call")
                    return ctx.end("hangup", "branch limit reached")
                branches_left -= 1
                kids = node.get("children") if node else None
                after = kids.get("_") if isinstance(kids, dict) else None
                stack.append((after, f"{path}.children._"))
                node, path = nxt.flow, nxt.label
                continue
            if isinstance(nxt, Replace):
                node, path = nxt.flow, nxt.label
                continue
            if isinstance(nxt, Stop):
                if stack:
                    node, path = stack.pop()
                    ctx.event("branch_return", path=path)
                    continue
                end = nxt.end or ctx.end("hangup", "the flow ended")
                if ctx.sip_response is not None and end.reason == "hangup":
                    end.reason, end.sip_code = "sip_response", ctx.sip_response
                return end
            if isinstance(nxt, (HardStop, Exit)):
                return nxt.end
            raise TypeError(f"module returned {nxt!r}")  # pragma: no cover
