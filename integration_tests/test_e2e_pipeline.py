"""source-iconik read | destination-bucket write against the emulator: the bucket follows iconik.

Runs the real console scripts as two processes (tools.pipeline), a full sync and then incremental ones
after the emulator modifies, adds, deletes, restores and purges assets.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from iconik_emulator import EmulatorServer, LibraryConfig
from source_iconik.collections_tree import join_path
from tools.bucket_view import BucketView
from tools.pipeline import configured_catalog, discover, run_sync, write_json


@pytest.fixture
def setup(tmp_path):
    with EmulatorServer(LibraryConfig(assets=120, seed=5)) as emu:
        source = write_json(tmp_path / "source.json", {
            "app_id": emu.app_id, "auth_token": emu.auth_token, "base_url": emu.base_url,
            "max_collection_depth": 50})
        bucket = tmp_path / "bucket"
        destination = write_json(tmp_path / "destination.json", {"bucket_url": str(bucket)})
        catalog = write_json(tmp_path / "catalog.json", configured_catalog(discover(source)))
        yield emu, source, destination, catalog, bucket, tmp_path


def sync(setup, state=None):
    emu, source, destination, catalog, _, tmp = setup
    state_path = write_json(tmp / "state.json", state) if state else None
    result = run_sync(source, destination, catalog, state_path)
    assert result.ok, result.source_log[-2000:] + result.destination_log[-2000:]
    return result


def assert_bucket_is_ground_truth(emu, bucket: Path) -> None:
    truth = emu.truth
    live = BucketView(bucket).snapshot().live_ids("assets")
    assert live == truth.live_asset_ids()
    for asset_id in live:
        folder = bucket / "objects" / "assets" / asset_id
        doc = json.loads((folder / "object.json").read_text())
        record, expected = doc["record"], truth.asset(asset_id)
        assert record["title"] == expected["title"] and record["date_modified"] == expected["date_modified"]
        assert record["metadata"] == truth.metadata(asset_id)
        assert record["directory_paths"] == sorted({join_path(t) for t in truth.collection_title_paths(asset_id)})
        for blob in doc["blobs"]:
            data = (bucket / blob["key"]).read_bytes()
            assert data == truth.media_bytes(record["file_url"]), asset_id
            assert blob["sha256"] == hashlib.sha256(data).hexdigest() and blob["size"] == len(data)
        has_file = bool(truth.proxies(asset_id) or truth.original_file(asset_id))
        assert bool(doc["blobs"]) == has_file, asset_id
    assert not [p for p in (bucket / "_tmp").rglob("*") if p.is_file()], "no temp file left"


def test_full_then_incremental_syncs_keep_the_bucket_equal_to_iconik(setup):
    emu, *_, bucket, _ = setup
    first = sync(setup)
    assert_bucket_is_ground_truth(emu, bucket)
    assert first.records["assets"] == len(emu.truth.live_asset_ids())
    echoed = first.states
    assert echoed and all("destinationStats" in m["state"] for m in echoed)

    live = sorted(emu.truth.live_asset_ids())
    edited, deleted, purged = live[:4], live[4:7], live[7:8]
    for asset_id in edited:
        emu.control.modify_asset(asset_id, title=f"edited {asset_id}")
    emu.control.set_metadata(edited[0], emu.truth.view_ids()[0], {"Keywords": ["changed"]})
    for asset_id in deleted + purged:
        emu.control.delete_asset(asset_id)
    emu.control.purge_asset(purged[0])
    added = [emu.control.add_asset(title=f"new {n}", collection_ids=emu.truth.root_collection_ids()[:1])
             for n in range(2)]

    second = sync(setup, first.final_state())
    assert_bucket_is_ground_truth(emu, bucket)
    snapshot = BucketView(bucket).snapshot()
    assert snapshot.trashed["assets"] == set(deleted + purged)
    assert set(added) <= snapshot.live_ids("assets")
    assert second.records["assets"] < first.records["assets"], "the second sync is incremental"

    emu.control.restore_asset(deleted[0])
    third = sync(setup, second.final_state())
    assert_bucket_is_ground_truth(emu, bucket)
    assert deleted[0] not in BucketView(bucket).snapshot().trashed["assets"]
    summary = json.loads((bucket / "_meta" / "last_sync.json").read_text())
    assert summary["restored"] == 1 and summary["incomplete_streams"] == []
    assert third.ok


def test_a_source_killed_mid_read_deletes_nothing(setup):
    emu, source, destination, catalog, bucket, tmp = setup
    first = sync(setup)
    before = BucketView(bucket).snapshot()
    live = sorted(emu.truth.live_asset_ids())
    for asset_id in live[:3]:
        emu.control.delete_asset(asset_id)
    emu.control.purge_asset(live[0])
    emu.control.modify_asset(live[5], title="edited before the crash")
    state = write_json(tmp / "state.json", first.final_state())
    crashed = run_sync(source, destination, catalog, state, kill_source_after=0)
    assert crashed.source_rc != 0
    after = BucketView(bucket).snapshot()
    assert after.live_ids("assets") == before.live_ids("assets") and not after.trashed.get("assets")
    resumed = sync(setup, first.final_state())
    assert resumed.ok
    assert_bucket_is_ground_truth(emu, bucket)
