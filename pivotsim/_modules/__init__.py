"""Callflow modules, one file per family; each registers its handlers by name.

A handler is ``handler(ctx, data, children) -> Next``: it plays the module on the
call and tells the executor where to go, as Kazoo's ``cf_<module>:handle/2`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._context import CallContext
from .._flow import Next

Handler = Callable[[CallContext, dict[str, Any], dict[str, Any]], Next]
REGISTRY: dict[str, Handler] = {}


def module(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for n in names:
            REGISTRY[n] = fn
        return fn

    return register


from . import bridge, control, dtmf, handoff, media, menu, pivot, variables  # noqa: E402,F401

__all__ = ["REGISTRY", "Handler", "module"]
