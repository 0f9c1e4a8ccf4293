from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pivot_apps import live_server  # noqa: E402

import pivotsim  # noqa: E402


@pytest.fixture
def call():
    """Place a call against an app in-process: ``call(app, caller=[...], **place_call_kwargs)``."""

    def _call(app, **kw):
        kw.setdefault("voice_url", "http://pivot.example/start")
        return pivotsim.place_call(pivotsim.WSGITransport(app), **kw)

    return _call


@pytest.fixture
def serve():
    """``with serve(app) as base_url:`` runs the app on 127.0.0.1."""
    return live_server
