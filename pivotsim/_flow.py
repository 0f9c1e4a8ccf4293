"""cf_exe's vocabulary: what a module tells the executor to do next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._transcript import End

__all__ = ["Continue", "Goto", "Branch", "Stop", "HardStop", "Exit", "Replace", "Next"]


@dataclass(frozen=True)
class Continue:
    """``cf_exe:continue(Key)``: the child ``key``, else ``_``, else stop."""

    key: str = "_"


@dataclass(frozen=True)
class Goto:
    """``cf_exe:attempt(Key)`` that succeeded: run that child now."""

    key: str


@dataclass(frozen=True)
class Branch:
    """``cf_exe:branch(Flow)``: push this node's ``_`` and run another flow (max 50 deep)."""

    flow: dict[str, Any]
    label: str = "branch"


@dataclass(frozen=True)
class Stop:
    """``cf_exe:stop()``: pop the branch stack if it has anything, else end the call."""

    end: End | None = None


@dataclass(frozen=True)
class HardStop:
    """``cf_exe:hard_stop()``: end the call whatever the branch stack holds."""

    end: End


@dataclass(frozen=True)
class Exit:
    """Control left callflow without a hangup (transfer, conference, dead air)."""

    end: End


@dataclass(frozen=True)
class Replace:
    """``continue_with_flow``: a Pivot reply replaces the flow; the branch stack is kept."""

    flow: dict[str, Any]
    label: str


Next = Continue | Goto | Branch | Stop | HardStop | Exit | Replace
