"""Knobs for the simulated Kazoo, each defaulting to what a stock Kazoo does."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Options"]


@dataclass(frozen=True)
class Options:
    """Engine settings.

    ``faithful`` emulates Kazoo's bugs (🟥 in the contract); ``False`` runs what
    Kazoo's docs intend instead, so a developer can see both. The ``*_ms`` timings
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
