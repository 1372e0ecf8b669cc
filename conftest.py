"""Fixtures shared by every test directory."""

import pytest

# The CDK standard suite reads integration_tests/sample_config.json, whose base_url names this port.
ACCEPTANCE_PORT = 47651


@pytest.fixture(scope="session")
def acceptance_emulator():
    """The emulator on the fixed port the acceptance configs point at, for the whole session."""
    from iconik_emulator import EmulatorServer, LibraryConfig

    with EmulatorServer(LibraryConfig(assets=120, seed=7), port=ACCEPTANCE_PORT, rate_limit=False) as emu:
        for asset_id in sorted(emu.truth.live_asset_ids())[:2]:  # so deleted_assets has records too
            emu.control.delete_asset(asset_id)
        yield emu
