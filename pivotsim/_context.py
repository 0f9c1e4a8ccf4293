"""One running call: the state every module reads and changes, and its transcript."""

from __future__ import annotations

from typing import Any, NoReturn

from ._call import CallState
from ._caller import CallerCursor, Hangup, Press, Silence, TypeAhead
from ._clock import CallerHungUp, VirtualClock
from ._fixtures import Fixtures
from ._options import Options
from ._transcript import Diagnostic, End, Event, Transcript
from ._transports import BaseTransport

ALL_DIGITS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")


class CallContext:
    """The call as modules see it; all waiting goes through the virtual clock."""

    def __init__(
        self,
        state: CallState,
        caller: CallerCursor,
        fixtures: Fixtures,
        options: Options,
        transport: BaseTransport,
        validator: Any,
        transcript: Transcript,
    ) -> None:
        self.state = state
        self.caller = caller
        self.fixtures = fixtures
        self.options = options
        self.transport = transport
        self.validator = validator
        self.transcript = transcript
        self.clock = VirtualClock(caller.caller.hangup_after_ms)
        self.steps = 0
        self.node_path = ""
        self.sip_response: int | None = None
        self.reply_count = 0
        self.finalizers: list[Any] = []

    # -- recording -----------------------------------------------------------
    @property
    def now(self) -> int:
        return self.clock.now_ms

    def event(self, type: str, **details: Any) -> None:
        self.transcript.events.append(Event(self.clock.now_ms, type, details))

    def diag(self, level: str, code: str, message: str, path: str | None = None, request: int | None = None) -> None:
        d = Diagnostic(level, code, message, path, request, self.clock.now_ms)
        self.transcript.diagnostics.append(d)
        self.event("diagnostic", level=level, code=code, message=message, path=path)

    def end(self, reason: str, detail: str = "", **kw: Any) -> End:
        return End(reason, self.clock.now_ms, detail, **kw)

    # -- time ----------------------------------------------------------------
    def wait(self, ms: int) -> None:
        self.clock.advance(ms)

    def answer(self) -> None:
        if not self.state.answered:
            self.state.answered = True
            self.event("answer")

    def hang_up_now(self, delay_ms: int = 0) -> NoReturn:
        """The caller's scripted hang-up: let ``delay_ms`` pass, then raise."""
        self.clock.hangup_at_ms = self.clock.now_ms + delay_ms
        self.clock.advance(delay_ms)
        raise CallerHungUp()

    # -- audio and digits ------------------------------------------------------
    def tts_ms(self, text: str) -> int:
        words = max(1, len(text.split()))
        return max(self.options.min_prompt_ms, words * self.options.tts_ms_per_word)

    def media_ms(self, media: str) -> int:
        return int(self.fixtures.media.get(media, self.options.default_media_ms))

    def prompt(
        self,
        *,
        text: str | None = None,
        media: str | None = None,
        duration_ms: int,
        terminators: tuple[str, ...] | list[str] = ALL_DIGITS,
        source: str = "",
        type_ahead: bool = True,
    ) -> str:
        """Play a prompt; return the digits the caller pressed over it.

        With ``type_ahead`` the digits also go to the ``default`` DTMF collection,
        as cf_util does for play/tts. A terminator digit stops playback.
        """
        details: dict[str, Any] = {"source": source} if source else {}
        if text is not None:
            details["text"] = text
        if media is not None:
            details["media"] = media
        self.event("prompt", duration_ms=duration_ms, **details)
        act = self.caller.at_prompt()
        if isinstance(act, Hangup):
            self.hang_up_now(min(duration_ms, self.caller.caller.reaction_ms))
        if not isinstance(act, TypeAhead) or not act.digits:
            self.wait(duration_ms)
            return ""
        first = min(self.caller.caller.reaction_ms, max(0, duration_ms - 1))
        self.wait(first)
        digits = act.digits
        self.event("dtmf", digits=digits, during="prompt")
        stops = any(d in terminators for d in digits[:1])
        self.wait(self.caller.caller.digit_interval_ms * (len(digits) - 1))
        if not stops:
            rest = duration_ms - first - self.caller.caller.digit_interval_ms * (len(digits) - 1)
            self.wait(max(0, rest))
        else:
            self.event("prompt_stopped", by=digits[0])
        if type_ahead:
            self.state.add_type_ahead(digits)
        return digits

    def collect(
        self,
        *,
        max_digits: int,
        timeout_ms: int,
        interdigit_ms: int,
        terminators: tuple[str, ...] | list[str] | str = ("#",),
        already: str = "",
        source: str = "",
    ) -> tuple[str, str]:
        """Collect digits at an input point. Returns ``(digits, how_it_ended)``.

        ``how`` is ``max_digits``, ``terminator``, ``timeout`` (nothing pressed)
        or ``interdigit_timeout``. The terminator is not stored.
        """
        got = already
        if max_digits and len(got) >= max_digits:
            return got[:max_digits], "max_digits"
        act = self.caller.at_input()
        if isinstance(act, Hangup):
            self.hang_up_now(self.caller.caller.reaction_ms)
        if isinstance(act, Silence) or not act.digits:
            self.wait(interdigit_ms if got else timeout_ms)
            return got, ("interdigit_timeout" if got else "timeout")
        assert isinstance(act, Press)
        react = self.caller.caller.reaction_ms
        if not got and react >= timeout_ms:
            self.wait(timeout_ms)
            return got, "timeout"
        self.wait(react)
        pressed = ""
        how = ""
        for i, d in enumerate(act.digits):
            if i:
                self.wait(self.caller.caller.digit_interval_ms)
            pressed += d
            if d in terminators:
                how = "terminator"
                break
            got += d
            if max_digits and len(got) >= max_digits:
                how = "max_digits"
                break
        self.event("dtmf", digits=pressed, during=source or "collect")
        left = act.digits[len(pressed):]
        if left:
            self.event("dtmf_ignored", digits=left, reason=f"pressed after the collection ended ({how})")
        if not how:
            self.wait(interdigit_ms)
            how = "interdigit_timeout"
        return got, how
