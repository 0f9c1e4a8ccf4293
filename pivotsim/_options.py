"""Knobs for the simulated Kazoo, each defaulting to what a stock Kazoo does."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Options"]


@dataclass(frozen=True)
class Options:
    """Engine settings.

    ``faithful`` emulates Kazoo's bugs (🟥 in the contract); ``False`` runs what
    Kazoo's docs intend instead, so a developer can see both. ``connect_error``,
    ``unrecognized_reply`` and ``null_param`` switch behaviours that were inferred
    from Kazoo's source rather than observed (docs/fidelity.md lists them all). The ``*_ms`` timings
    are the virtual durations pivotsim assumes for audio it cannot hear.
    """

    max_steps: int = 500
    faithful: bool = True
    strict_blacklist: bool = False
    request_timeout_ms: int = 5000  # system_config pivot.request_timeout_ms
    pivot_event_wait_ms: int = 10_000  # cf_pivot DEFAULT_EVENT_WAIT
    runtime_req_format: str = "twiml"  # pivot_call's default when req_format is absent
    max_branch_count: int = 50
    interdigit_timeout_ms: int = 2000  # call_command.interdigit_timeout
    tts_ms_per_word: int = 400
    min_prompt_ms: int = 600
    default_media_ms: int = 3000
    max_redirects: int = 5
    # Behaviours the contract marks [INF] (inferred from Kazoo's source, not observed
    # on a live system). Each default is the inference; the alternative is one switch away.
    connect_error: str = "wait"  # refused/DNS/TLS: "wait" 10 s then _ (like a timeout), or "failed" (_ at once)
    unrecognized_reply: str = "hangup"  # XML type but no <Response>: "hangup" (the race) or "default" (_ at once)
    null_param: str = "not_sent"  # a null CAV: "not_sent" (encoder crash) or "empty" (sent as an empty value)

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        for name, low in _MINIMUMS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number of at least {low}, not {value!r}")


_CHOICES = {
    "connect_error": ("wait", "failed"),
    "unrecognized_reply": ("hangup", "default"),
    "null_param": ("not_sent", "empty"),
    "runtime_req_format": ("twiml", "kazoo"),
}

# A negative count or duration has no meaning for Kazoo; a zero wait or prompt does.
_MINIMUMS = {
    "max_steps": 1,
    "request_timeout_ms": 1,
    "pivot_event_wait_ms": 0,
    "max_branch_count": 0,
    "interdigit_timeout_ms": 0,
    "tts_ms_per_word": 0,
    "min_prompt_ms": 0,
    "default_media_ms": 0,
    "max_redirects": 0,
}
