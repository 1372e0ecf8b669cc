"""Fixtures for the emulator contract tests: small emulators on loopback, plus an authenticated session."""

from __future__ import annotations

import pytest

from emulator_tests.helpers import Api
from iconik_emulator import EmulatorServer, LibraryConfig


@pytest.fixture(scope="session")
def emu():
    """A shared read-only emulator: 150 assets, seed 3, no rate limit. Tests must not change its library."""
    with EmulatorServer(LibraryConfig(assets=150, seed=3), latency_ms=0, rate_limit=False) as server:
        yield server


@pytest.fixture(scope="session")
def api(emu) -> Api:
    return Api(emu)


@pytest.fixture
def fresh_emu():
    """A private emulator for tests that change the library, limits or settings."""
    with EmulatorServer(LibraryConfig(assets=60, seed=11), latency_ms=0, rate_limit=False) as server:
        yield server
