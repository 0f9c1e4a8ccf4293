"""The record of one call: requests, events in virtual time, diagnostics and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Transcript", "RequestRecord", "Event", "Diagnostic", "End", "END_REASONS"]

#: Why a call ended. Documented in the README ("The transcript") and schemas/transcript.schema.json.
END_REASONS = (
    "hangup",          # Kazoo hung up: the flow finished, a hangup module, or a reply Kazoo hangs up on
    "caller_hangup",   # the simulated caller hung up
    "dead_air",        # Kazoo left the call up in silence; nothing more would ever happen
    "bridged",         # answered by a user/device/ring group/carrier; the call ended when that leg did
    "transferred",     # handed to a transfer target
    "conference",      # handed to the conference application
    "voicemail",       # voicemail finished and the flow ended
    "parked",          # parked in a slot
    "sip_response",    # a SIP response (response module, Reject) ended the call; see sip_code
    "step_limit",      # pivotsim's --max-steps stopped a flow that never ended
    "error",           # pivotsim itself failed; see diagnostics (a bug worth reporting)
)

BODY_LIMIT = 65_536  # bytes of a reply body kept in the transcript


@dataclass
class RequestRecord:
    """One HTTP request Kazoo made, and what came back."""

    index: int
    t_ms: int
    purpose: str  # "voice_url", "twiml_action", "redirect", "cdr"
    req_format: str
    method: str
    url: str
    headers: dict[str, str]
    params: list[list[str]] | None = None
    json: Any = None
    body_sent: str = ""
    status: int | None = None
    content_type: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    body_bytes: int = 0
    body_truncated: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None
    outcome: str | None = None
    node_path: str = ""
    iteration: int = 1
    timeout_ms: int = 0  # the req_timeout_ms in force for this request
    debug: bool = False
    json_errors: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Event:
    t_ms: int
    type: str
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"t_ms": self.t_ms, "type": self.type, **self.details}


@dataclass
class Diagnostic:
    """Something a real Kazoo would do differently from what a developer likely expects."""

    level: str  # "error", "warning", "info"
    code: str
    message: str
    path: str | None = None
    request: int | None = None
    t_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class End:
    reason: str
    t_ms: int
    detail: str = ""
    sip_code: int | None = None
    hangup_cause: str | None = None
    target: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Transcript:
    call: dict[str, Any]
    requests: list[RequestRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    end: End | None = None
    final_state: dict[str, Any] = field(default_factory=dict)

    # -- convenience for tests and scenarios ------------------------------------
    def events_of(self, *types: str) -> list[Event]:
        return [e for e in self.events if e.type in types]

    @property
    def prompts(self) -> list[str]:
        """What the caller heard, in order: tts text or media ids."""
        return [e.details.get("text") or e.details.get("media") or "" for e in self.events_of("prompt")]

    @property
    def cavs(self) -> dict[str, Any]:
        return dict(self.final_state.get("custom_application_vars", {}))

    def diagnostic_codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pivotsim_transcript": 1,
            "call": self.call,
            "requests": [r.to_dict() for r in self.requests],
            "events": [e.to_dict() for e in self.events],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "end": self.end.to_dict() if self.end else None,
            "final_state": self.final_state,
        }
