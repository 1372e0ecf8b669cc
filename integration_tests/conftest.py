"""End-to-end fixtures: a fresh emulator per test module and helpers to run the real source against it."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.state_builder import StateBuilder

from iconik_emulator import EmulatorServer, LibraryConfig
from source_iconik.source import SourceIconik


@pytest.fixture
def emulator():
    """A small library of its own for each test (tests change it), rate limit on as in iconik."""
    with EmulatorServer(LibraryConfig(assets=150, seed=11)) as emu:
        yield emu


def source_config(emu, **extra) -> dict:
    return {"app_id": emu.app_id, "auth_token": emu.auth_token, "base_url": emu.base_url,
            "max_collection_depth": 50, **extra}


def read_stream(emu, stream: str, incremental: bool = False, state: dict | None = None, **config):
    catalog = CatalogBuilder().with_stream(stream, SyncMode.incremental if incremental else SyncMode.full_refresh)
    states = StateBuilder().with_stream_state(stream, state).build() if state is not None else None
    output = read(SourceIconik(), source_config(emu, **config), catalog.build(), states)
    assert not output.errors, output.get_formatted_error_message()
    return output


def records(output) -> list[dict]:
    return [message.record.data for message in output.records]


def final_state(output) -> dict:
    return dict(output.most_recent_state.stream_state.__dict__) if output.most_recent_state else {}


def pytest_generate_tests(metafunc):
    """Parametrize the standard suite's `scenario` argument from acceptance-test-config.yml."""
    from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests as generate

    generate(metafunc)
