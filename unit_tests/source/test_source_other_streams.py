"""proxies, collections, metadata_views, deleted_assets, asset_inventory, check and discover."""

import logging

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import discover, read
from airbyte_cdk.test.state_builder import StateBuilder

from source_iconik import SourceIconik
from unit_tests.source.helpers import BASE, FAST, V1, V2, data, ts
from unit_tests.source.helpers import read_ok as run

ROOT, CHILD, GRAND, OTHER = (f"cccccccc-0000-0000-0000-00000000000{i}" for i in range(1, 5))


@pytest.fixture
def library(iconik):
    iconik.collections = [
        {"id": ROOT, "title": "Brand", "status": "ACTIVE", "is_root": True, "in_collections": []},
        {"id": CHILD, "title": "Shoots/2024", "status": "ACTIVE", "in_collections": [ROOT]},
        {"id": GRAND, "title": "Day 1", "status": "ACTIVE", "in_collections": [CHILD]},
        {"id": OTHER, "title": "Gone", "status": "DELETED", "in_collections": []},
    ]
    iconik.views = [
        {"id": V1, "name": "Main", "description": None,
         "view_fields": [{"name": "Keywords"}, {"name": "__separator__"}]},
        {"id": V2, "name": "Talent", "view_fields": [{"name": "TalentName"}]},
    ]
    return iconik


# ---- proxies -----------------------------------------------------------------------------------------------

def proxy(pid, asset_id, **extra):
    return {"id": pid, "asset_id": asset_id, "name": "proxy", "filename": f"{pid}.mp4", "format": "MP4",
            "codec": "h264", "bit_rate": 5000, "resolution": {"width": 1920, "height": 1080}, "size": 10,
            "status": "CLOSED", "url": f"https://storage.example/{pid}.mp4", **extra}


def test_proxies_stream_emits_every_proxy_of_every_asset(library, raw_config):
    library.docs = [
        {"id": "a1", "date_modified": ts(2), "status": "ACTIVE", "in_collections": [CHILD],
         "proxies": [proxy("p1", "a1"), proxy("p2", None)]},
        {"id": "a2", "date_modified": ts(3), "status": "ACTIVE", "in_collections": [CHILD]},  # proxies fetched
    ]
    library.proxies["a2"] = [proxy("p3", "a2")]
    output = run(raw_config, "proxies", SyncMode.incremental)
    records = data(output)
    assert [(r["id"], r["asset_id"], r["asset_date_modified"]) for r in records] == [
        ("p1", "a1", ts(2)), ("p2", "a1", ts(2)), ("p3", "a2", ts(3))]
    assert records[0]["resolution"] == {"width": 1920, "height": 1080}
    assert library.search_params[0]["generate_signed_proxy_url"] == "true"
    assert output.most_recent_state.stream_state.date_modified == "2024-05-03T00:00:00.000000Z"


def test_proxies_stream_respects_path_patterns(library, raw_config):
    library.docs = [
        {"id": "a1", "date_modified": ts(2), "status": "ACTIVE", "in_collections": [GRAND],
         "proxies": [proxy("p1", "a1")]},
        {"id": "a2", "date_modified": ts(3), "status": "ACTIVE", "in_collections": [ROOT],
         "proxies": [proxy("p2", "a2")]},
    ]
    records = data(run({**raw_config, "path_patterns": ["brand/*/day *"]}, "proxies"))
    assert [r["id"] for r in records] == ["p1"]


# ---- collections -------------------------------------------------------------------------------------------

def test_collections_stream_carries_escaped_paths_and_depth(library, raw_config):
    records = {r["id"]: r for r in data(run(raw_config, "collections"))}
    assert set(records) == {ROOT, CHILD, GRAND}  # the DELETED one is left out
    assert records[GRAND]["directory_path"] == "Brand/Shoots%2F2024/Day 1"
    assert records[GRAND]["directory_paths"] == ["Brand/Shoots%2F2024/Day 1"]
    assert records[GRAND]["depth"] == 3
    assert records[ROOT]["is_root"] is True


def test_collections_stream_is_limited_to_collection_ids_and_below(library, raw_config):
    records = data(run({**raw_config, "collection_ids": [CHILD]}, "collections"))
    assert sorted(r["id"] for r in records) == sorted([CHILD, GRAND])


def test_collections_deeper_than_max_depth_are_not_emitted(library, raw_config):
    records = data(run({**raw_config, "max_collection_depth": 2}, "collections"))
    assert sorted(r["id"] for r in records) == sorted([ROOT, CHILD])


def test_collections_list_is_read_with_big_pages(library, raw_config):
    run(raw_config, "collections")
    [call] = [r for r in library.mocker.request_history if r.path == "/api/assets/v1/collections/"]
    assert call.qs["per_page"] == ["1000"]


# ---- metadata_views ----------------------------------------------------------------------------------------

def test_metadata_views_stream_reads_field_types_from_each_view(library, raw_config):
    detail = {"id": V1, "name": "Main", "description": "main view", "date_created": ts(1), "date_modified": ts(2),
              "view_fields": [{"name": "Keywords", "label": None, "field_type": "tag_cloud", "multi": True},
                              {"name": "__separator__"}]}
    library.views = [detail, {"id": V2, "name": "Talent", "view_fields": [{"name": "TalentName"}]}]
    records = {r["id"]: r for r in data(run(raw_config, "metadata_views"))}
    assert records[V1]["view_fields"] == [{"name": "Keywords", "label": None, "field_type": "tag_cloud",
                                           "multi": True, "required": None, "read_only": None, "options": None,
                                           "description": None}]  # the separator is gone
    assert records[V1]["description"] == "main view"
    assert [f["name"] for f in records[V2]["view_fields"]] == ["TalentName"]
    assert [r.path for r in library.mocker.request_history if "/views/" in r.path and r.path.count("/") > 5] == [
        f"/api/metadata/v1/views/{V1}/", f"/api/metadata/v1/views/{V2}/"]


def test_metadata_views_stream_falls_back_to_the_list_form_on_404(library, raw_config, requests_mock):
    requests_mock.get(f"{BASE}/API/metadata/v1/views/{V2}/", status_code=404, json={"errors": ["nope"]})
    records = {r["id"]: r for r in data(run(raw_config, "metadata_views"))}
    assert records[V2]["name"] == "Talent"
    assert [f["name"] for f in records[V2]["view_fields"]] == ["TalentName"]


def test_metadata_views_stream_honours_metadata_view_ids(library, raw_config):
    records = data(run({**raw_config, "metadata_view_ids": [V2]}, "metadata_views"))
    assert [r["id"] for r in records] == [V2]


# ---- deleted_assets ----------------------------------------------------------------------------------------

def tombstone(asset_id, deleted):
    return {"id": asset_id, "title": f"T {asset_id}", "status": "DELETED", "date_deleted": deleted,
            "deleted_by_user": "user-1", "date_modified": deleted}


def test_deleted_assets_stream_emits_tombstones_across_pages(library, raw_config):
    library.delete_queue = [tombstone("d1", ts(2)), tombstone("d2", ts(3)), tombstone("d3", ts(4))]
    library.delete_queue_page = 2
    output = run(raw_config, "deleted_assets", SyncMode.incremental)
    records = data(output)
    assert [r["id"] for r in records] == ["d1", "d2", "d3"]
    assert records[0]["_ab_cdc_deleted_at"] == ts(2)
    assert records[0]["status"] == "DELETED"
    assert output.most_recent_state.stream_state.date_deleted == "2024-05-04T00:00:00.000000Z"
    first = library.mocker.request_history[0]
    assert first.path == "/api/assets/v1/delete_queue/assets/"
    assert first.qs["sort"] == ["date_deleted,asc"]


def test_deleted_assets_stream_skips_tombstones_before_cursor_minus_lookback(library, raw_config):
    library.delete_queue = [tombstone("old", ts(2)), tombstone("edge", ts(9, 23)), tombstone("new", ts(10, 1))]
    state = StateBuilder().with_stream_state("deleted_assets", {"date_deleted": "2024-05-10T00:00:00Z"}).build()
    output = run({**raw_config, "lookback_window_seconds": 3600}, "deleted_assets", SyncMode.incremental, state)
    assert [r["id"] for r in data(output)] == ["edge", "new"]
    assert output.most_recent_state.stream_state.date_deleted == "2024-05-10T01:00:00.000000Z"


def test_deleted_asset_without_date_gets_a_deletion_time(library, raw_config):
    library.delete_queue = [tombstone("d1", None)]
    [record] = data(run(raw_config, "deleted_assets"))
    assert record["_ab_cdc_deleted_at"].startswith("20")
    assert record.get("date_deleted") is None


# ---- asset_inventory ---------------------------------------------------------------------------------------

def live(asset_id, day, collections=(CHILD,)):
    return {"id": asset_id, "date_modified": ts(day), "status": "ACTIVE", "title": "big doc",
            "in_collections": list(collections), "metadata": {"x": ["y"]}}


def test_asset_inventory_is_complete_when_seen_equals_total(library, raw_config):
    library.docs = [live("a1", 2), live("a2", 3), live("a3", 4)]
    output = run(raw_config, "asset_inventory")
    assert data(output) == [{"id": "a1", "date_modified": ts(2)}, {"id": "a2", "date_modified": ts(3)},
                            {"id": "a3", "date_modified": ts(4)}]
    proof = output.most_recent_state.stream_state.inventory
    assert proof["complete"] is True
    assert (proof["seen"], proof["total"], proof["emitted"]) == (3, 3, 3)
    assert proof["scope"] == "||ACTIVE|"  # collections|patterns|statuses|media types
    body, params = library.search_bodies[0], library.search_params[0]
    assert body["include_fields"] == ["id", "date_modified", "in_collections"]
    assert params["per_page"] == "1000"


def test_asset_inventory_is_complete_despite_a_server_side_per_page_clamp(library, raw_config):
    library.docs = [live(f"a{i}", 2 + i) for i in range(5)]
    library.search_clamp = 2
    output = run(raw_config, "asset_inventory")
    assert len(data(output)) == 5
    proof = output.most_recent_state.stream_state.inventory
    assert proof["complete"] is True
    assert (proof["seen"], proof["total"]) == (5, 5)


def test_asset_inventory_is_incomplete_when_total_exceeds_what_was_served(library, raw_config):
    library.docs = [live("a1", 2), live("a2", 3)]
    library.total_override = 5
    output = run(raw_config, "asset_inventory")
    assert len(data(output)) == 2
    proof = output.most_recent_state.stream_state.inventory
    assert proof["complete"] is False
    assert (proof["seen"], proof["total"]) == (2, 5)


def test_asset_inventory_counts_emitted_separately_from_seen_under_path_patterns(library, raw_config):
    library.docs = [live("a1", 2, [GRAND]), live("a2", 3, [ROOT])]
    output = run({**raw_config, "path_patterns": ["Brand/*/Day*"]}, "asset_inventory")
    assert [r["id"] for r in data(output)] == ["a1"]
    proof = output.most_recent_state.stream_state.inventory
    assert proof["complete"] is True
    assert (proof["seen"], proof["total"], proof["emitted"]) == (2, 2, 1)
    assert "brand/*/day*" in proof["scope"]


def test_asset_inventory_ignores_previous_state(library, raw_config):
    library.docs = [live("a1", 2)]
    state = StateBuilder().with_stream_state(
        "asset_inventory", {"inventory": {"complete": True, "seen": 99, "total": 99}}).build()
    proof = run(raw_config, "asset_inventory", state=state).most_recent_state.stream_state.inventory
    assert (proof["seen"], proof["total"]) == (1, 1)


def test_asset_inventory_of_an_empty_library_is_complete(library, raw_config):
    output = run(raw_config, "asset_inventory")
    assert data(output) == []
    proof = output.most_recent_state.stream_state.inventory
    assert proof["complete"] is True
    assert (proof["seen"], proof["total"]) == (0, 0)


# ---- check and discover ------------------------------------------------------------------------------------

def test_check_connection_fails_readably_on_401(requests_mock, raw_config):
    requests_mock.get(f"{BASE}/API/users/v1/users/current/", status_code=401, json={"errors": ["Token is invalid"]})
    ok, message = SourceIconik(**FAST).check_connection(logging.getLogger("test"), raw_config)
    assert ok is False
    assert "App ID or token" in message


def test_check_status_message_reads_as_written_without_repr_quotes(requests_mock, raw_config):
    requests_mock.get(f"{BASE}/API/users/v1/users/current/", status_code=401, json={"errors": ["Token is invalid"]})
    status = SourceIconik(**FAST).check(logging.getLogger("test"), raw_config)
    assert status.status.value == "FAILED"
    assert "App ID or token" in status.message and status.message[0] not in "'\""


def test_check_connection_succeeds_with_a_user(iconik, raw_config):
    assert SourceIconik(**FAST).check_connection(logging.getLogger("test"), raw_config) == (True, None)


def test_check_connection_fails_when_the_host_is_not_iconik(requests_mock, raw_config):
    requests_mock.get(f"{BASE}/API/users/v1/users/current/", json={"hello": "world"})
    ok, message = SourceIconik(**FAST).check_connection(logging.getLogger("test"), raw_config)
    assert ok is False
    assert "base_url" in message


def test_check_connection_reports_a_bad_config_without_calling_iconik(requests_mock, raw_config):
    ok, message = SourceIconik(**FAST).check_connection(logging.getLogger("test"), {**raw_config, "app_id": "x"})
    assert ok is False
    assert "'app_id' must be a UUID" in message
    assert requests_mock.call_count == 0


def test_discover_lists_the_six_streams_without_calling_iconik(requests_mock, raw_config):
    output = discover(SourceIconik(**FAST), raw_config)
    streams = {s.name: s for s in output.catalog.catalog.streams}
    assert set(streams) == {"assets", "collections", "metadata_views", "proxies", "deleted_assets",
                            "asset_inventory"}
    assert SyncMode.incremental in streams["assets"].supported_sync_modes
    assert streams["assets"].default_cursor_field == ["date_modified"]
    assert streams["deleted_assets"].default_cursor_field == ["date_deleted"]
    assert streams["collections"].supported_sync_modes == [SyncMode.full_refresh]
    assert all(s.source_defined_primary_key == [["id"]] for s in streams.values())
    assert requests_mock.call_count == 0


def test_read_with_a_401_ends_in_a_config_error_trace(requests_mock, raw_config):
    requests_mock.get(f"{BASE}/API/assets/v1/collections/", status_code=401, json={"errors": ["Token is invalid"]})
    requests_mock.get(f"{BASE}/API/metadata/v1/views/", status_code=401, json={"errors": ["Token is invalid"]})
    catalog = CatalogBuilder().with_stream("collections", SyncMode.full_refresh).build()
    output = read(SourceIconik(**FAST), raw_config, catalog, expecting_exception=True)
    [stream_error] = [e.trace.error for e in output.errors if e.trace.error.stream_descriptor]
    assert stream_error.stream_descriptor.name == "collections"
    assert stream_error.failure_type.value == "config_error"
    assert "App ID or token" in stream_error.message
    assert output.records == []


def test_deleted_assets_cursor_is_handed_back_unchanged_when_nothing_is_newer(library, raw_config):
    library.delete_queue = [tombstone("old", ts(2))]
    state = StateBuilder().with_stream_state("deleted_assets", {"date_deleted": "2024-05-10T00:00:00Z"}).build()
    output = run(raw_config, "deleted_assets", SyncMode.incremental, state)
    assert data(output) == []
    assert output.most_recent_state.stream_state.date_deleted == "2024-05-10T00:00:00Z"
