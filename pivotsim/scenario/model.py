"""A scenario as typed objects, built once at load time.

Every step knows where it was written (:class:`Loc`) and, for steps that came
from an ``include``, the chain of include sites. Expected values are kept as
written (plain values and :mod:`matchers`); ``${...}`` references inside them are
resolved when the step is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .source import Loc

__all__ = [
    "UNSET",
    "Loc",
    "Step",
    "Action",
    "Press",
    "TypeAhead",
    "Silence",
    "Hangup",
    "Wait",
    "Expect",
    "RequestStep",
    "ReplyStep",
    "PromptStep",
    "CavsStep",
    "CollectedStep",
    "BranchStep",
    "BridgeStep",
    "HandoffStep",
    "DiagnosticStep",
    "NoDiagnosticStep",
    "EventStep",
    "SaveStep",
    "HttpStep",
    "NodeSpec",
    "EndSpec",
    "Scenario",
    "ACTION_KINDS",
    "EXPECT_KINDS",
    "STEP_KINDS",
]


class _Unset:
    """Not given in the file (``None`` is a value: YAML ``null``)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass
class Step:
    """One entry of ``steps`` or ``finally``."""

    loc: Loc
    name: str | None = field(default=None, kw_only=True)
    #: include sites, outermost first, for steps that came from an included file
    via: tuple[Loc, ...] = field(default=(), kw_only=True)
    #: variables bound by ``include ... with:`` for this step
    bound: dict[str, Any] = field(default_factory=dict, kw_only=True)

    kind = "step"

    def label(self) -> str:
        return self.name or self.kind


# -- caller actions: compiled into the caller's script before the call ------------


@dataclass
class Action(Step):
    pass


@dataclass
class Press(Action):
    """Press ``digits`` at the next input point (``""``: stay silent there)."""

    digits: str
    kind = "press"


@dataclass
class TypeAhead(Action):
    """Press ``digits`` over the next prompt, before the input point."""

    digits: str
    kind = "type_ahead"


@dataclass
class Silence(Action):
    """Press nothing at the next ``count`` input points: they time out."""

    count: int = 1
    kind = "silence"


@dataclass
class Hangup(Action):
    """Hang up at the next prompt or input point (after a ``wait``, that long into it)."""

    kind = "hangup"


@dataclass
class Wait(Action):
    """The next press or hang-up comes ``ms`` after the call reaches its point."""

    ms: int
    kind = "wait"


# -- expectations: checked in order against the transcript, after the call ------------


@dataclass
class Expect(Step):
    #: ``save: {var: path}``: variables read from what this step matched
    save: dict[str, str] = field(default_factory=dict, kw_only=True)


@dataclass
class RequestStep(Expect):
    """The next HTTP request Kazoo made."""

    method: Any = UNSET
    url: Any = UNSET
    path: Any = UNSET
    params: Any = UNSET
    headers: Any = UNSET
    body_format: Any = UNSET
    purpose: Any = UNSET
    strict: bool | None = None
    kind = "request"


@dataclass
class ReplyStep(Expect):
    """What the server answered to the current (or next) request."""

    status: Any = UNSET
    content_type: Any = UNSET
    outcome: Any = UNSET
    headers: Any = UNSET
    body: Any = UNSET
    json: Any = UNSET
    twiml: Any = UNSET
    strict: bool | None = None
    kind = "reply"


@dataclass
class PromptStep(Expect):
    """The next prompt the caller heard: tts text, or a media id."""

    text: Any = UNSET
    media: Any = UNSET
    source: Any = UNSET
    duration_ms: Any = UNSET
    #: a bare value: compared with the text, or the media id for recordings
    heard: Any = UNSET
    kind = "prompt"


@dataclass
class CavsStep(Expect):
    """Custom Application Vars the call holds, now or later."""

    values: dict[str, Any]
    strict: bool | None = None
    kind = "cavs"


@dataclass
class CollectedStep(Expect):
    """The next digits collection (collect_dtmf)."""

    collection: Any = UNSET
    digits: Any = UNSET
    how: Any = UNSET
    kind = "collected"


@dataclass
class BranchStep(Expect):
    """The next callflow child taken other than ``_`` (a menu choice, a failure cause...)."""

    key: Any = UNSET
    path: Any = UNSET
    kind = "branch"


@dataclass
class BridgeStep(Expect):
    """The next ring attempt's result: bridged (answered) or failed."""

    target: Any = UNSET
    answered: Any = UNSET
    cause: Any = UNSET
    code: Any = UNSET
    kind = "bridge"


@dataclass
class HandoffStep(Expect):
    """The next hand-off: transfer, voicemail, conference or park."""

    to: Any = UNSET
    target: Any = UNSET
    kind = "handoff"


@dataclass
class DiagnosticStep(Expect):
    """A diagnostic, at or after this point, matching these fields."""

    level: Any = UNSET
    code: Any = UNSET
    message: Any = UNSET
    path: Any = UNSET
    kind = "diagnostic"


@dataclass
class NoDiagnosticStep(Expect):
    """No diagnostic anywhere in the call matches these fields."""

    level: Any = UNSET
    code: Any = UNSET
    message: Any = UNSET
    path: Any = UNSET
    kind = "no_diagnostic"


@dataclass
class EventStep(Expect):
    """The next transcript event of ``type``, with these fields (the escape hatch)."""

    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    kind = "event"


@dataclass
class SaveStep(Expect):
    """Only saves: paths are read from the whole transcript record."""

    kind = "save"


@dataclass
class HttpStep(Step):
    """``finally`` only: an HTTP request to the target (reset a test database...)."""

    method: str = "POST"
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = UNSET
    form: Any = UNSET
    body: Any = UNSET
    status: Any = UNSET
    kind = "http"


ACTION_KINDS: dict[str, type[Step]] = {
    "press": Press,
    "type_ahead": TypeAhead,
    "silence": Silence,
    "hangup": Hangup,
    "wait": Wait,
}
EXPECT_KINDS: dict[str, type[Step]] = {
    "request": RequestStep,
    "reply": ReplyStep,
    "prompt": PromptStep,
    "cavs": CavsStep,
    "collected": CollectedStep,
    "branch": BranchStep,
    "bridge": BridgeStep,
    "handoff": HandoffStep,
    "diagnostic": DiagnosticStep,
    "no_diagnostic": NoDiagnosticStep,
    "event": EventStep,
    "save": SaveStep,
}
STEP_KINDS: dict[str, type[Step]] = {**ACTION_KINDS, **EXPECT_KINDS, "http": HttpStep}


# -- the scenario ----------------------------------------------------------------------


@dataclass
class NodeSpec:
    """The pivot node's data, as in a callflow saved through Crossbar (values may hold ``${name}``)."""

    voice_url: Any = None
    method: Any = "get"
    req_format: Any = "kazoo"
    req_body_format: Any = None
    req_timeout_ms: Any = None
    cdr_url: Any = None
    debug: Any = None


@dataclass
class EndSpec:
    """Expectations on how the call ended, checked whatever happened in the steps."""

    loc: Loc
    reason: Any = UNSET
    sip_code: Any = UNSET
    hangup_cause: Any = UNSET
    target: Any = UNSET
    detail: Any = UNSET
    duration_ms: Any = UNSET
    requests: Any = UNSET
    max_latency_ms: float | None = None
    max_latency_pct: float | None = None
    locs: dict[str, Loc] = field(default_factory=dict)


@dataclass
class Scenario:
    """One test: a call, what the caller does, and what must happen.

    ``id`` reads ``file::name`` or ``file::name[param]`` for a parametrized row.
    """

    name: str
    file: str
    loc: Loc
    target: Any
    steps: list[Step]
    final: list[Step] = field(default_factory=list)
    end: EndSpec | None = None
    param_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    tags: list[str] = field(default_factory=list)
    skip: str | None = None
    connect_to: list[str] = field(default_factory=list)
    node: NodeSpec = field(default_factory=NodeSpec)
    call: dict[str, Any] = field(default_factory=dict)
    caller: dict[str, Any] = field(default_factory=dict)
    fixtures: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    kazoo_schemas: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    strict: bool = False

    @property
    def id(self) -> str:
        base = f"{self.file}::{self.name}"
        return f"{base}[{self.param_id}]" if self.param_id is not None else base

    @property
    def test_name(self) -> str:
        """The name without the file: ``name`` or ``name[param]`` (a pytest item name)."""
        return f"{self.name}[{self.param_id}]" if self.param_id is not None else self.name

    def actions(self) -> list[Action]:
        return [s for s in self.steps if isinstance(s, Action)]
