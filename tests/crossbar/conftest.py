"""Fixtures for the fake Crossbar's tests: an app with three accounts, a fake clock, a Pivot stub."""

from __future__ import annotations

import pytest
from cb_support import Clock, Kz, PivotStub, make_app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pivot() -> PivotStub:
    return PivotStub()


@pytest.fixture
def kz(clock: Clock, pivot: PivotStub) -> Kz:
    return Kz(make_app(clock, pivot))


@pytest.fixture
def alpha(kz: Kz) -> tuple[str, str]:
    """(token, account_id) for john in Alpha."""
    return kz.login()


@pytest.fixture
def beta(kz: Kz) -> tuple[str, str]:
    return kz.login("jane", "Secret", "Beta")
