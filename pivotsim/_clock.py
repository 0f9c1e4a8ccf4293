"""Virtual time: every Kazoo timer runs on it, so a 10 s wait costs nothing."""

from __future__ import annotations


class CallerHungUp(Exception):
    """Raised inside a wait when the caller's hang-up time falls within it."""


class VirtualClock:
    """Milliseconds since the call started, plus the caller's hang-up deadline.

    Waiting past the deadline moves time to the deadline and raises
    :class:`CallerHungUp`, which is how a hang-up interrupts whatever Kazoo was doing.
    """

    __slots__ = ("now_ms", "hangup_at_ms")

    def __init__(self, hangup_at_ms: int | None = None) -> None:
        self.now_ms = 0
        self.hangup_at_ms = hangup_at_ms

    def advance(self, ms: int) -> None:
        ms = max(0, int(ms))
        if self.hangup_at_ms is not None and self.now_ms + ms >= self.hangup_at_ms:
            self.now_ms = max(self.now_ms, self.hangup_at_ms)
            raise CallerHungUp()
        self.now_ms += ms

    def room(self) -> int | None:
        """How long until the caller hangs up, or None if they never do."""
        if self.hangup_at_ms is None:
            return None
        return max(0, self.hangup_at_ms - self.now_ms)
