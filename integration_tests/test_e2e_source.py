"""The real source against the emulator, compared with the emulator's ground truth."""

from __future__ import annotations

import fnmatch
import threading
import time

import requests

from integration_tests.conftest import final_state, read_stream, records
from source_iconik.collections_tree import join_path


def paths_of(emu, asset_id: str) -> list[str]:
    return sorted({join_path(titles) for titles in emu.truth.collection_title_paths(asset_id)})


def test_assets_match_ground_truth_ids_paths_metadata_and_files(emulator):
    got = {r["id"]: r for r in records(read_stream(emulator, "assets"))}
    truth = emulator.truth
    assert set(got) == truth.live_asset_ids()
    for asset_id, record in got.items():
        assert record["directory_paths"] == paths_of(emulator, asset_id), asset_id
        assert record.get("directory_path") == (paths_of(emulator, asset_id) or [None])[0]
        assert record["metadata"] == truth.metadata(asset_id), asset_id
        assert record["title"] == truth.asset(asset_id)["title"]
    with_file = [r for r in got.values() if r.get("file_url")]
    assert len(with_file) > len(got) // 2
    for record in with_file[:10]:
        body = requests.get(record["file_url"], timeout=10).content
        assert body == truth.media_bytes(record["file_url"])
        assert record["file_size"] in (None, len(body))
    no_file = {a for a in got if not truth.proxies(a) and not truth.original_file(a)}
    assert all(got[a].get("file_url") is None for a in no_file)  # the CDK drops null fields


def test_per_view_metadata_fallback_gives_the_same_records(emulator):
    embedded = {r["id"]: r["metadata"] for r in records(read_stream(emulator, "assets"))}
    emulator.control.set_embed_metadata(False)
    emulator.control.reset_counters()
    fallback = {r["id"]: r["metadata"] for r in records(read_stream(emulator, "assets"))}
    assert fallback == embedded
    calls = emulator.control.counters()
    assert calls["total"] > len(embedded), "the fallback really called the per-view endpoint"


def test_collections_stream_has_every_collection_with_its_paths(emulator):
    got = {r["id"]: r for r in records(read_stream(emulator, "collections"))}
    assert set(got) == set(emulator.truth.collection_ids())
    for cid, record in got.items():
        expected = sorted({join_path(t) for t in emulator.truth.collection_title_paths_of_collection(cid)})
        assert record["directory_paths"] == expected


def test_depth_limit_cuts_deep_collections(emulator):
    shallow = records(read_stream(emulator, "collections", max_collection_depth=3))
    assert shallow and max(r["depth"] for r in shallow) <= 3
    assert len(shallow) < len(emulator.truth.collection_ids())


def test_filters_status_media_type_collection_and_path(emulator):
    truth = emulator.truth
    videos = {r["id"] for r in records(read_stream(emulator, "assets", media_types=["video"]))}
    assert videos == truth.live_asset_ids(media_types=("video",))
    root = truth.root_collection_ids()[0]
    under = {r["id"] for r in records(read_stream(emulator, "assets", collection_ids=[root]))}
    expected = {a for a in truth.live_asset_ids() if root in truth.ancestor_collections(a)}
    assert under == expected and under
    title = truth.collection(root)["title"]
    pattern = join_path([title]).lower() + "/*"
    by_path = {r["id"] for r in records(read_stream(emulator, "assets", path_patterns=[pattern]))}
    expected = {a for a in truth.live_asset_ids()
                if any(fnmatch.fnmatchcase(p.lower(), pattern) for p in paths_of(emulator, a))}
    assert by_path == expected


def test_second_read_returns_only_changed_assets(emulator):
    first = read_stream(emulator, "assets", incremental=True)
    state = final_state(first)
    assert state.get("date_modified")
    ids = sorted(emulator.truth.live_asset_ids())[:3]
    time.sleep(0.01)
    for asset_id in ids:
        emulator.control.modify_asset(asset_id, title=f"changed {asset_id}")
    second = records(read_stream(emulator, "assets", incremental=True, state=state, lookback_window_seconds=0))
    # The cursor bound is inclusive: the asset(s) at exactly the saved cursor come again, nothing else.
    at_cursor = {r["id"] for r in records(first)
                 if r["date_modified"].replace("+00:00", "Z")[:23] == state["date_modified"][:23]}
    assert set(ids) <= {r["id"] for r in second} <= set(ids) | at_cursor
    assert all(r["title"] == f"changed {r['id']}" for r in second if r["id"] in ids)


def test_far_future_state_reads_nothing_and_keeps_the_state(emulator):
    state = {"date_modified": "2999-01-01T00:00:00.000Z"}
    output = read_stream(emulator, "assets", incremental=True, state=state)
    assert records(output) == []
    assert final_state(output).get("date_modified", state["date_modified"]) == state["date_modified"]


def test_changes_hidden_by_index_lag_are_caught_by_the_lookback_window(emulator):
    state = final_state(read_stream(emulator, "assets", incremental=True))
    emulator.control.set_index_lag(1.5)
    target = sorted(emulator.truth.live_asset_ids())[5]
    emulator.control.modify_asset(target, title="seen late")
    early = records(read_stream(emulator, "assets", incremental=True, state=state))
    state = final_state(read_stream(emulator, "assets", incremental=True, state=state)) if not early else state
    time.sleep(1.6)
    late = records(read_stream(emulator, "assets", incremental=True, state=state, lookback_window_seconds=60))
    assert target in {r["id"] for r in early + late}
    assert any(r["id"] == target and r["title"] == "seen late" for r in late + early)


def test_nothing_is_missed_when_assets_change_during_a_sync(emulator):
    emulator.control.set_limits(latency_ms=40)
    state = final_state(read_stream(emulator, "assets", incremental=True))
    ids = sorted(emulator.truth.live_asset_ids())
    changed: list[str] = []

    def modify_while_reading() -> None:
        time.sleep(0.3)
        for asset_id in ids[::15]:
            emulator.control.modify_asset(asset_id, title=f"mid-sync {asset_id}")
            changed.append(asset_id)
            time.sleep(0.05)

    worker = threading.Thread(target=modify_while_reading)
    worker.start()
    during = read_stream(emulator, "assets", incremental=True, state=state, page_size=10)
    worker.join()
    after = records(read_stream(emulator, "assets", incremental=True, state=final_state(during)))
    final_titles = {r["id"]: r["title"] for r in records(during) + after}
    for asset_id in changed:
        assert final_titles.get(asset_id) == f"mid-sync {asset_id}", asset_id


def test_proxies_match_ground_truth(emulator):
    got = records(read_stream(emulator, "proxies"))
    expected = {p["id"] for a in emulator.truth.live_asset_ids() for p in emulator.truth.proxies(a)}
    assert {r["id"] for r in got} == expected
    assert all(r["url"] for r in got)


def test_deleted_assets_and_a_complete_inventory(emulator):
    gone = sorted(emulator.truth.live_asset_ids())[:4]
    for asset_id in gone:
        emulator.control.delete_asset(asset_id)
    tombstones = records(read_stream(emulator, "deleted_assets", incremental=True))
    assert {r["id"] for r in tombstones} == set(gone)
    assert all(r["_ab_cdc_deleted_at"] and r["date_deleted"] for r in tombstones)
    inventory = read_stream(emulator, "asset_inventory")
    assert {r["id"] for r in records(inventory)} == emulator.truth.live_asset_ids()
    proof = final_state(inventory)["inventory"]
    assert proof["complete"] is True and proof["seen"] == proof["total"] == proof["emitted"]


def test_metadata_views_stream_lists_every_view(emulator):
    got = records(read_stream(emulator, "metadata_views"))
    assert {r["id"] for r in got} == set(emulator.truth.view_ids())
    assert all(r.get("view_fields") and all(f["name"] and f["field_type"] for f in r["view_fields"]) for r in got)
