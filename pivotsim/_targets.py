"""Turn a target the user names (a URL, ``module:attr``, an app object) into a transport."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urljoin

from ._transports import BaseTransport, CallableTransport, HTTPTransport, WSGITransport

__all__ = ["TargetError", "resolve_target", "IN_PROCESS_URL"]

#: The voice_url used for in-process apps when none is given. Its host is not
#: on Kazoo's blacklist, so nested pivots built from ``request.host_url`` pass.
IN_PROCESS_URL = "http://pivot.example/"


class TargetError(ValueError):
    """The target cannot be loaded; the message says why, for a one-line CLI error."""


def _is_wsgi(obj: Any) -> bool:
    return hasattr(obj, "wsgi_app") or (callable(obj) and getattr(obj, "__code__", None) is not None
                                         and obj.__code__.co_argcount == 2)


def load_object(spec: str) -> Any:
    """Import ``package.module:attr`` (the current directory is importable, as with gunicorn)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise TargetError(f"target {spec!r} is neither a URL nor module:attr")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise TargetError(f"cannot import {module_name!r} for target {spec!r}: {type(exc).__name__}: {exc}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"{module_name!r} has no attribute {attr!r}") from None
    if callable(obj) and not _is_wsgi(obj) and getattr(obj, "__code__", None) is not None \
            and obj.__code__.co_argcount == 0:
        obj = obj()  # an app factory such as create_app()
    return obj


def resolve_target(
    target: str | Any,
    *,
    voice_url: str | None = None,
    connect_to: Iterable[str] = (),
) -> tuple[str, BaseTransport]:
    """Returns ``(voice_url, transport)``; a ``voice_url`` that is a path is joined to the target.

    A string starting with ``http://`` or ``https://`` is a real server; any other
    string is ``module:attr`` naming a WSGI app (or an app factory). An object is
    used as a WSGI app, or a transport as it is, or a plain callable
    ``fn(request)`` via :class:`CallableTransport`.
    """
    is_url = isinstance(target, str) and target.startswith(("http://", "https://"))
    if voice_url and not voice_url.startswith(("http://", "https://")):
        # A path: the route of the app (or server) under test, as in a scenario's node.voice_url.
        voice_url = urljoin(target if is_url else IN_PROCESS_URL, voice_url)
    if is_url:
        try:
            return voice_url or target, HTTPTransport(connect_to=connect_to)
        except ValueError as exc:
            raise TargetError(str(exc)) from None
    obj = load_object(target) if isinstance(target, str) else target
    if isinstance(obj, BaseTransport):
        return voice_url or IN_PROCESS_URL, obj
    if _is_wsgi(obj):
        return voice_url or IN_PROCESS_URL, WSGITransport(obj)
    if callable(obj):
        fn: Callable[..., Any] = obj
        return voice_url or IN_PROCESS_URL, CallableTransport(fn)
    raise TargetError(f"target {target!r} is not a WSGI app, a callable or a URL")
