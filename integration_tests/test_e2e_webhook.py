"""iconik -> webhook receiver -> bucket, end to end against the emulator.

A first sync (`source-iconik read | destination-bucket write`, tools.pipeline) fills a bucket; the receiver
runs on uvicorn in a thread on 127.0.0.1; the emulator is pointed at it with the shared-secret header, the
way a webhook registered in iconik calls it. Deleting an asset in iconik trashes its objects within a
second, restoring revives them, an update that leaves the filters unindexes, and the next sync agrees.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from destination_bucket.config import parse_config
from destination_bucket.webhook import ReceiverServer
from iconik_emulator import EmulatorServer, LibraryConfig
from tools.bucket_view import BucketView
from tools.pipeline import configured_catalog, discover, run_sync, write_json

SECRET = "e2e-webhook-secret-0123456789"
HEADER = "X-Webhook-Secret"


def wait_for(predicate, timeout: float) -> float:
    """Seconds until the predicate held; fails after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("e2e-webhook")
    with EmulatorServer(LibraryConfig(assets=40, seed=21)) as emu:
        source = write_json(tmp_path / "source.json", {
            "app_id": emu.app_id, "auth_token": emu.auth_token, "base_url": emu.base_url,
            "max_collection_depth": 50})
        bucket = tmp_path / "bucket"
        destination_config = {"bucket_url": str(bucket), "webhook_secret": SECRET, "webhook_secret_header": HEADER}
        destination = write_json(tmp_path / "destination.json", destination_config)
        catalog = write_json(tmp_path / "catalog.json", configured_catalog(discover(source)))
        first = run_sync(source, destination, catalog)
        assert first.ok, first.source_log[-2000:] + first.destination_log[-2000:]
        with ReceiverServer(parse_config(destination_config)) as receiver:
            emu.control.set_webhook(receiver.url, {HEADER: SECRET})
            yield emu, bucket, receiver, (source, destination, catalog, tmp_path, first)


def test_a_delete_in_iconik_soft_deletes_the_object_within_a_second(setup):
    emu, bucket, _, _ = setup
    live = sorted(BucketView(bucket).snapshot().live_ids("assets"))
    assert live == sorted(emu.truth.live_asset_ids())
    with_proxies = [a for a in live if emu.truth.proxies(a)]
    asset_id = with_proxies[0] if with_proxies else live[0]
    trash = bucket / "_trash" / "assets" / asset_id

    emu.control.delete_asset(asset_id)
    took = wait_for(lambda: (trash / "_deleted.json").exists(), timeout=1.0)
    assert took < 1.0
    assert not (bucket / "objects" / "assets" / asset_id).exists()
    assert json.loads((trash / "object.json").read_text())["record"]["id"] == asset_id
    marker = json.loads((trash / "_deleted.json").read_text())
    assert marker["reason"].startswith("deleted in iconik") and marker["source_deleted_at"]
    proxies_dir = bucket / "objects" / "proxies"
    if proxies_dir.exists():  # the asset's proxies went with it
        for folder in proxies_dir.iterdir():
            assert json.loads((folder / "object.json").read_text())["record"]["asset_id"] != asset_id
    deliveries = emu.control.webhook_deliveries()
    assert [d["status"] for d in deliveries] == [200]


def test_restore_update_and_purge_then_the_next_sync_agrees(setup):
    emu, bucket, _, (source, destination, catalog, tmp, first) = setup
    live = sorted(BucketView(bucket).snapshot().live_ids("assets"))
    restored, hidden, purged = live[0], live[1], live[2]
    objects, trash = bucket / "objects" / "assets", bucket / "_trash" / "assets"

    emu.control.delete_asset(restored)
    wait_for(lambda: (trash / restored / "_deleted.json").exists(), timeout=1.0)
    emu.control.restore_asset(restored)
    wait_for(lambda: (objects / restored / "object.json").exists() and not (trash / restored).exists(), 1.0)

    emu.control.modify_asset(hidden, status="HIDDEN")  # leaves the default filters (status ACTIVE)
    wait_for(lambda: (trash / hidden / "_deleted.json").exists(), timeout=1.0)
    assert "no longer matches" in json.loads((trash / hidden / "_deleted.json").read_text())["reason"]

    emu.control.delete_asset(purged)
    emu.control.purge_asset(purged)
    wait_for(lambda: (trash / purged / "_deleted.json").exists(), timeout=1.0)
    assert {d["status"] for d in emu.control.webhook_deliveries()} == {200}

    state = write_json(Path(tmp) / "state.json", first.final_state())
    second = run_sync(source, destination, catalog, state)
    assert second.ok, second.destination_log[-2000:]
    snapshot = BucketView(bucket).snapshot()
    assert snapshot.live_ids("assets") == emu.truth.live_asset_ids()
    assert {hidden, purged} <= snapshot.trashed["assets"] and restored not in snapshot.trashed["assets"]
