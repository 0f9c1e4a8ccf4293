"""cf_pivot: ask the Pivot server what to do next."""

from __future__ import annotations

from typing import Any

from .._context import CallContext
from .._flow import Next
from .._pivot import PivotSession
from . import module


@module("pivot")
def pivot(ctx: CallContext, data: dict[str, Any], children: dict[str, Any]) -> Next:
    return PivotSession(ctx, data).run_first()
