"""The world around the call: documents Kazoo would look up, and how the far ends behave."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fixtures", "BridgeOutcome"]

# Named outcomes for the far end of a bridge, with the hangup cause and SIP code
# FreeSWITCH reports for them.
_NAMED: dict[str, tuple[bool, str, int | None]] = {
    "answered": (True, "NORMAL_CLEARING", 200),
    "busy": (False, "USER_BUSY", 486),
    "no_answer": (False, "NO_ANSWER", 480),
    "rejected": (False, "CALL_REJECTED", 603),
    "unallocated": (False, "UNALLOCATED_NUMBER", 404),
    "failed": (False, "NORMAL_TEMPORARY_FAILURE", 503),
    "unavailable": (False, "NO_ROUTE_DESTINATION", 503),
}


@dataclass(frozen=True)
class BridgeOutcome:
    """What happens when Kazoo rings someone: answered (and talks), or fails with a cause."""

    answered: bool = True
    cause: str = "NORMAL_CLEARING"
    code: int | None = 200
    talk_ms: int = 30_000
    ring_ms: int = 4_000

    @classmethod
    def parse(cls, value: Any) -> BridgeOutcome:
        """``"busy"``, ``{"cause": "USER_BUSY", "code": 486}`` or a BridgeOutcome."""
        if isinstance(value, BridgeOutcome):
            return value
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_").replace(" ", "_")
            if key not in _NAMED:
                raise ValueError(
                    f"unknown outcome {value!r}; use one of {', '.join(sorted(_NAMED))} "
                    "or an object with cause and code"
                )
            ans, cause, code = _NAMED[key]
            return cls(answered=ans, cause=cause, code=code)
        if isinstance(value, Mapping):
            if "outcome" in value:
                base = cls.parse(value["outcome"])
            else:
                base = cls(answered=False, cause="NORMAL_TEMPORARY_FAILURE", code=None)
            kw: dict[str, Any] = {}
            if "answered" in value:
                kw["answered"] = bool(value["answered"])
            if "cause" in value:
                kw["cause"] = str(value["cause"])
            if "code" in value:
                kw["code"] = None if value["code"] is None else int(value["code"])
            for k in ("talk_ms", "ring_ms"):
                if k in value:
                    kw[k] = int(value[k])
            return cls(**{**base.__dict__, **kw})
        raise ValueError(f"an outcome is a name or an object, not {type(value).__name__}")


@dataclass
class Fixtures:
    """Documents and outcomes for the modules pivotsim simulates rather than runs.

    ``outcomes`` is keyed by what is rung: ``"user:<id>"``, ``"device:<id>"``,
    ``"ring_group"``, ``"offnet:<number>"`` (or ``"offnet"`` for any number),
    ``"sip:<uri>"``; anything not listed gets ``default_outcome``. ``media`` maps a
    media id or URL to its length in ms for prompt timing.
    """

    menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    callflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    temporal_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    vmboxes: dict[str, dict[str, Any]] = field(default_factory=dict)
    conferences: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcomes: dict[str, Any] = field(default_factory=dict)
    default_outcome: Any = "answered"
    media: dict[str, int] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)

    def outcome(self, *keys: str) -> BridgeOutcome:
        for k in keys:
            if k in self.outcomes:
                return BridgeOutcome.parse(self.outcomes[k])
        return BridgeOutcome.parse(self.default_outcome)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Fixtures:
        if not data:
            return cls()
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fixture key {unknown[0]!r}; known: {', '.join(sorted(known))}")
        return cls(**dict(data))
