"""The person on the phone: what they press, when they stay silent, when they hang up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Caller", "Press", "Silence", "Hangup", "TypeAhead"]

DTMF = frozenset("0123456789*#ABCDabcd")


@dataclass(frozen=True)
class Press:
    """Press ``digits`` at the next input point (collect_dtmf, menu, Gather, Record)."""

    digits: str


@dataclass(frozen=True)
class TypeAhead:
    """Press ``digits`` during the next prompt (tts, play, Say, Play), before any input point."""

    digits: str


@dataclass(frozen=True)
class Silence:
    """Press nothing at the next input point and let it time out."""


@dataclass(frozen=True)
class Hangup:
    """Hang up at the next prompt or input point, whichever comes first."""


Action = Press | TypeAhead | Silence | Hangup


def _check_digits(digits: str) -> str:
    bad = [c for c in digits if c not in DTMF]
    if bad:
        raise ValueError(f"not a DTMF digit: {bad[0]!r} in {digits!r} (use 0-9, *, #, A-D)")
    return digits


def action_from(value: Action | str) -> Action:
    """Accept the short forms: a digit string presses it, ``""`` is silence."""
    if isinstance(value, str):
        return Press(_check_digits(value)) if value else Silence()
    if isinstance(value, (Press, TypeAhead)):
        _check_digits(value.digits)
    return value


class Caller:
    """A script for the caller, consumed in order as the call reaches input points.

    ``Caller(["1234", "", "2"])`` presses 1234 at the first input point, stays
    silent at the second and presses 2 at the third; once the script runs out the
    caller is silent. ``hangup_after_ms`` hangs up at that virtual time wherever
    the call is. ``digit_interval_ms`` is the gap between presses of one string,
    and ``reaction_ms`` the time before the first press at an input point.
    """

    def __init__(
        self,
        actions: Iterable[Action | str] = (),
        *,
        hangup_after_ms: int | None = None,
        digit_interval_ms: int = 250,
        reaction_ms: int = 500,
    ) -> None:
        self.actions: tuple[Action, ...] = tuple(action_from(a) for a in actions)
        self.hangup_after_ms = hangup_after_ms
        self.digit_interval_ms = digit_interval_ms
        self.reaction_ms = reaction_ms

    def __repr__(self) -> str:
        return f"Caller({list(self.actions)!r}, hangup_after_ms={self.hangup_after_ms!r})"

    def cursor(self) -> CallerCursor:
        return CallerCursor(self)


class CallerCursor:
    """One call's position in a :class:`Caller` script (the script itself is reusable)."""

    __slots__ = ("caller", "_i")

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self._i = 0

    def _peek(self) -> Action | None:
        acts = self.caller.actions
        return acts[self._i] if self._i < len(acts) else None

    def at_prompt(self) -> TypeAhead | Hangup | None:
        """Type-ahead or a hang-up is taken by a prompt; presses wait for an input point."""
        nxt = self._peek()
        if isinstance(nxt, (TypeAhead, Hangup)):
            self._i += 1
            return nxt
        return None

    def at_input(self) -> Press | Silence | Hangup:
        nxt = self._peek()
        if nxt is None:
            return Silence()
        self._i += 1
        if isinstance(nxt, TypeAhead):
            # Nothing played before this input point: the digits are simply pressed here.
            return Press(nxt.digits)
        return nxt

    @property
    def remaining(self) -> tuple[Action, ...]:
        return self.caller.actions[self._i :]
