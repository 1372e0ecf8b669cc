"""The PyAirbyte recipe (docs/pyairbyte.md) against the emulator; skipped when PyAirbyte is absent."""

import pytest

pytestmark = pytest.mark.slow


def test_pyairbyte_reads_into_its_cache_and_writes_the_bucket(tmp_path):
    pytest.importorskip("airbyte", reason="PyAirbyte is optional: pip install airbyte")
    from iconik_emulator import EmulatorServer, LibraryConfig
    from tools.pyairbyte_recipe import sync

    with EmulatorServer(LibraryConfig(assets=30, seed=3), rate_limit=False) as emu:
        config = {"app_id": emu.app_id, "auth_token": emu.auth_token, "base_url": emu.base_url}
        counts = sync(config, tmp_path / "bucket", tmp_path / "cache")
        assert counts["assets"] == len(emu.truth.live_asset_ids())
    objects = {p.parent.name for p in (tmp_path / "bucket" / "objects" / "assets").glob("*/object.json")}
    assert objects == emu.truth.live_asset_ids()
