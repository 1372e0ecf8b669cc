"""Deletion safety (3): nothing deletes more than the guard allows, and a failed sync deletes nothing.

The inventory sweep is the only delete that is not an explicit tombstone, so every scenario here removes
assets without a tombstone (purge, hide, filter change) and checks what the sweep does.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from destination_bucket.reconcile import InventoryProof, Reconciler
from destination_bucket.store import Store
from iconik_emulator import EmulatorServer, LibraryConfig
from iconik_emulator import search as emulator_search
from reliability_tests.helpers import Setup, failure_text
from source_iconik.collections_tree import CollectionTree
from source_iconik.config import parse_config
from source_iconik.streams.deletions import AssetInventory

NO_FILES = {"download_files": False}


def prepopulate(bucket: Path, ids) -> None:
    """Objects as an earlier sync left them (only their names matter to the sweep)."""
    for asset_id in ids:
        folder = bucket / "objects" / "assets" / asset_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "object.json").write_text(json.dumps({"record": {"id": asset_id}}))


def summary(setup: Setup) -> dict:
    return json.loads((setup.bucket / "_meta" / "last_sync.json").read_text())


@pytest.fixture(scope="module")
def big_library():
    """2,500 assets: the inventory reads them in three pages of 1,000."""
    with EmulatorServer(LibraryConfig(assets=2500, seed=21), rate_limit=False) as emu:
        yield emu


def test_an_inventory_broken_mid_way_deletes_nothing_and_a_rerun_sweeps_exactly(big_library, tmp_path,
                                                                                    monkeypatch):
    emu = big_library
    setup = Setup(emu, tmp_path, destination_extra=NO_FILES, streams=("asset_inventory",))
    prepopulate(setup.bucket, emu.truth.live_asset_ids())
    purged = sorted(emu.truth.live_asset_ids())[:40]
    for asset_id in purged:
        emu.control.purge_asset(asset_id)
    before = setup.snapshot().live_ids("assets")

    # Once the inventory asks for a page after the first, every iconik body is cut short (the source's
    # other calls are done by then): the source gives up after its retries, mid-inventory.
    after, draw, broken_from = emulator_search.after, emu.state.fault_plan.draw, []

    def after_then_break(keyed, search_after, spec):
        broken_from.append(True)
        return after(keyed, search_after, spec)

    monkeypatch.setattr(emulator_search, "after", after_then_break)
    monkeypatch.setattr(emu.state.fault_plan, "draw", lambda: "truncate" if broken_from else draw())
    broken = setup.sync(check=False)
    assert broken.source_rc != 0 and 0 < broken.records["asset_inventory"] < 2400, failure_text(broken)
    assert "malformed JSON" in broken.source_log
    assert setup.snapshot().live_ids("assets") == before and not setup.snapshot().trashed.get("assets")
    assert summary(setup)["swept"] == 0 and "asset_inventory" in summary(setup)["incomplete_streams"]

    # Killed in the middle of the inventory: the same.
    monkeypatch.undo()
    killed = setup.sync(check=False, kill_source_after=1500)
    assert killed.source_rc != 0
    assert setup.snapshot().live_ids("assets") == before and not setup.snapshot().trashed.get("assets")

    # A complete inventory sweeps exactly the purged assets (40 of 2,500: within the 10% guard).
    setup.sync()
    after = setup.snapshot()
    assert after.live_ids("assets") == emu.truth.live_asset_ids()
    assert after.trashed["assets"] == set(purged)


def test_an_inventory_cut_by_the_result_window_is_not_proof(big_library, tmp_path, monkeypatch):
    """iconik's search stops at a result window (10,000; scaled here to 1,000): the source sees fewer
    documents than `total`, marks the inventory incomplete, and the destination refuses to sweep."""
    emu = big_library
    setup = Setup(emu, tmp_path, destination_extra=NO_FILES, streams=("asset_inventory",))
    live = emu.truth.live_asset_ids()
    prepopulate(setup.bucket, live)
    after = emulator_search.after
    window = 1000

    def windowed_after(keyed, search_after, spec):
        start = after(keyed, search_after, spec)
        return len(keyed) if start >= window else start

    monkeypatch.setattr(emulator_search, "after", windowed_after)
    result = setup.sync(check=False)
    assert result.records["asset_inventory"] == window
    assert "skipped, nothing deleted" in result.destination_log, result.destination_log[-2000:]
    proof = result.final_state()[0]["stream"]["stream_state"]["inventory"]
    assert not proof["complete"] and (proof["seen"], proof["total"]) == (window, len(live))
    assert setup.snapshot().live_ids("assets") == live and not setup.snapshot().trashed.get("assets")


class WindowedSearch:
    """A search API that reports `total` documents but serves only the first `window` of them."""

    def __init__(self, total: int, window: int):
        self.total, self.window = total, window

    def post(self, path, params, body):
        start = (body.get("search_after") or [0])[0]
        size = int(params["per_page"])
        ids = range(start, min(start + size, self.window))
        return {"objects": [{"id": f"a{i:05d}", "date_modified": "2024-01-01T00:00:00Z", "_sort": [i + 1]}
                            for i in ids], "total": self.total, "per_page": size}


def test_the_inventory_proof_of_a_windowed_search_refuses_the_sweep(tmp_path):
    """The 10,000 window at full size, with a mocked search: 10,000 of 12,000 seen is not proof."""
    config = parse_config({"app_id": "5f0c4b8e-6a1d-11ef-9c2a-0242ac120002", "auth_token": "unit-test-token-01"})
    context = SimpleNamespace(config=config, client=WindowedSearch(12_000, 10_000), tree=CollectionTree.build([]))
    stream = AssetInventory(context)
    emitted = [r for s in stream.stream_slices(None) for r in stream.read_records(None, stream_slice=s)
               if isinstance(r, dict)]
    assert len(emitted) == 10_000
    proof = InventoryProof.from_state(stream.state)
    assert proof is not None and not proof.complete and (proof.seen, proof.total) == (10_000, 12_000)
    assert proof.refusal(len(emitted))  # not complete: seen 10,000 of 12,000

    store = Store(str(tmp_path / "bucket"))
    prepopulate(tmp_path / "bucket", [f"a{i:05d}" for i in range(12_000)])
    reconciler = Reconciler(store, 24, 0.5)
    assert reconciler.sweep("assets", {r["id"] for r in emitted}, set(), proof, len(emitted)) == 0
    assert len(reconciler.live_keys("assets")) == 12_000


@pytest.fixture
def synced(tmp_path):
    with EmulatorServer(LibraryConfig(assets=50, seed=8), rate_limit=False) as emu:
        setup = Setup(emu, tmp_path, destination_extra=NO_FILES, streams=("assets", "asset_inventory"))
        first = setup.sync()
        assert setup.snapshot().live_ids("assets") == emu.truth.live_asset_ids()
        yield setup, first.final_state()


def _assert_refused_and_nothing_deleted(setup: Setup, result, before: set[str]) -> None:
    assert "refused, nothing deleted" in result.destination_log, result.destination_log[-2000:]
    snapshot = setup.snapshot()
    assert before <= snapshot.live_ids("assets") and not snapshot.trashed.get("assets")


def test_a_token_that_suddenly_sees_far_fewer_assets_is_refused(synced):
    """Half the library becomes invisible without a single delete event (a role or scope change on
    iconik's side): the guard refuses the sweep."""
    setup, state = synced
    before = setup.snapshot().live_ids("assets")
    for asset_id in random.Random(1).sample(sorted(before), len(before) // 2):
        setup.emu.control.modify_asset(asset_id, status="HIDDEN")
    result = setup.sync(state)
    _assert_refused_and_nothing_deleted(setup, result, before)


def test_many_assets_purged_at_once_are_refused(synced):
    setup, state = synced
    before = setup.snapshot().live_ids("assets")
    for asset_id in sorted(before)[:12]:  # 24% of the objects
        setup.emu.control.purge_asset(asset_id)
    result = setup.sync(state)
    _assert_refused_and_nothing_deleted(setup, result, before)


def test_a_narrowed_filter_is_refused_until_the_user_raises_the_fraction_for_one_sync(synced):
    setup, state = synced
    before = setup.snapshot().live_ids("assets")
    setup.rewrite_source(media_types=["image"])
    result = setup.sync(state)
    _assert_refused_and_nothing_deleted(setup, result, before)

    # The documented way through: max_delete_fraction 1 for one sync; the bucket then follows the filter.
    setup.rewrite_destination(max_delete_fraction=1.0)
    setup.sync(result.final_state() or state)
    images = setup.emu.truth.live_asset_ids(media_types=("image",))
    assert setup.snapshot().live_ids("assets") == images
    assert setup.snapshot().trashed["assets"] == before - images
