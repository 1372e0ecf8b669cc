"""The `assets` stream read end to end through the CDK entrypoint, against the in-memory iconik."""

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.state_builder import StateBuilder

from source_iconik import SourceIconik
from unit_tests.source.helpers import BASE, FAST, V1, V2, data, read_ok, ts

ROOT, UGC, ACDC = ("cccccccc-0000-0000-0000-000000000001", "cccccccc-0000-0000-0000-000000000002",
                   "cccccccc-0000-0000-0000-000000000003")


MISSING = object()  # a key the search document does not carry at all


def doc(asset_id, modified, collections=(UGC,), **extra):
    """A complete search document: nothing left for the source to fetch per asset."""
    body = {
        "id": asset_id, "title": f"Title {asset_id}", "type": "ASSET", "status": "ACTIVE", "media_type": "video",
        "date_created": ts(1), "date_modified": modified, "date_imported": ts(1), "is_online": True,
        "archive_status": "NOT_ARCHIVED", "analyze_status": "N/A", "category": None, "external_id": None,
        "created_by_user": "user-1", "updated_by_user": None, "in_collections": list(collections),
        "ancestor_collections": [ROOT], "metadata": {},
        "keyframes": [{"type": "KEYFRAME", "url": f"https://storage.example/{asset_id}/kf.jpg"}],
        "proxies": [{"id": f"p-{asset_id}", "asset_id": asset_id, "name": "proxy", "filename": f"{asset_id}.mp4",
                     "url": f"https://storage.example/{asset_id}/proxy.mp4", "size": 1234, "status": "CLOSED"}],
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not MISSING}


@pytest.fixture
def library(iconik):
    iconik.collections = [
        {"id": ROOT, "title": "Kitsch", "status": "ACTIVE", "is_root": True, "in_collections": []},
        {"id": UGC, "title": "02 UGC Footage", "status": "ACTIVE", "in_collections": [ROOT]},
        {"id": ACDC, "title": "AC/DC", "status": "ACTIVE", "in_collections": [ROOT]},
    ]
    iconik.views = [
        {"id": V1, "name": "Main", "view_fields": [{"name": "Keywords"}, {"name": "__separator__"},
                                                  {"name": "ClientName"}]},
        {"id": V2, "name": "Talent", "view_fields": [{"name": "TalentName"}]},
    ]
    return iconik


def run(config, stream="assets", mode=SyncMode.incremental, state=None):
    return read_ok(config, stream, mode, state)


def test_asset_record_carries_paths_metadata_thumbnail_and_proxy_file(library, raw_config):
    library.docs = [doc("a1", ts(2), collections=[UGC, ACDC], metadata={"Keywords": ["beach", "sun"],
                                                                         "ClientName": "Acme"})]
    [record] = data(run(raw_config))
    assert record["id"] == "a1"
    assert record["directory_path"] == "Kitsch/02 UGC Footage"
    assert record["directory_paths"] == ["Kitsch/02 UGC Footage", "Kitsch/AC%2FDC"]
    assert record["metadata"] == {"ClientName": ["Acme"], "Keywords": ["beach", "sun"]}
    assert record["thumbnail_url"] == "https://storage.example/a1/kf.jpg"
    assert record["proxy_url"] == record["file_url"] == "https://storage.example/a1/proxy.mp4"
    assert record["file_name"] == "a1.mp4"
    assert record["file_size"] == 1234
    assert record["file_content_type"] == "video/mp4"
    assert record.get("original_url") is None  # the CDK drops null values from emitted records


def test_search_request_asks_for_signed_proxy_urls_without_search_history(library, raw_config):
    library.docs = [doc("a1", ts(2))]
    run(raw_config)
    params = library.search_params[0]
    assert params["generate_signed_proxy_url"] == "true"
    assert params["save_search_history"] == "false"
    body = library.search_bodies[0]
    assert body["doc_types"] == ["assets"]
    assert body["sort"] == [{"name": "date_modified", "order": "asc"}, {"name": "id", "order": "asc"}]
    assert "search_after" not in body


def test_nulls_in_optional_fields_do_not_break_the_record(library, raw_config):
    library.docs = [doc("a1", ts(2), title=None, media_type=None, in_collections=None, ancestor_collections=None,
                        metadata={"Keywords": None, "ClientName": []}, keyframes=None, proxies=None)]
    library.assets["a1"] = {"id": "a1", "in_collections": None}
    library.files["a1"] = []
    [record] = data(run(raw_config))
    assert record.get("title") is None
    assert record.get("directory_path") is None
    assert record["directory_paths"] == []
    assert record["metadata"] == {}
    assert record.get("thumbnail_url") is None
    assert record.get("file_url") is None


def test_search_after_pages_through_all_documents(library, raw_config):
    library.docs = [doc(f"a{i}", ts(2, i)) for i in range(5)]
    output = run({**raw_config, "page_size": 2})
    assert [r["id"] for r in data(output)] == ["a0", "a1", "a2", "a3", "a4"]
    bodies = library.search_bodies
    assert len(bodies) == 3
    assert bodies[1]["search_after"] == [ts(2, 1), "a1"]
    assert bodies[2]["search_after"] == [ts(2, 3), "a3"]
    assert all(p["per_page"] == "2" for p in library.search_params)


def test_server_side_per_page_clamp_does_not_end_the_read_early(library, raw_config):
    library.docs = [doc(f"a{i}", ts(2, i)) for i in range(5)]
    library.search_clamp = 2  # iconik may cap per_page below what was asked (iconik-api.md §11)
    output = run({**raw_config, "page_size": 10})
    assert [r["id"] for r in data(output)] == ["a0", "a1", "a2", "a3", "a4"]


def test_metadata_view_answering_404_yields_no_values_and_no_error(library, raw_config):
    library.docs = [doc("a1", ts(2), metadata=None)]
    library.view_values[("a1", V1)] = {"object_id": "a1", "metadata_values": {
        "Keywords": {"field_values": [{"value": "beach"}]}}}
    # V2 has no entry: the fake answers 404 "Metadata values for this object and view doesn't exist".
    output = run(raw_config)
    [record] = data(output)
    assert record["metadata"] == {"Keywords": ["beach"]}
    assert any("/views/" + V2 in r.url for r in library.mocker.request_history)


def test_embedded_metadata_and_per_view_fallback_give_the_same_record(library, raw_config):
    values = {"Keywords": ["beach", "sun"], "ClientName": ["Acme"], "TalentName": ["Jo"]}
    library.docs = [doc("a1", ts(2), metadata=values)]
    embedded = data(run(raw_config))
    first_run = len(library.mocker.request_history)

    library.docs = [doc("a1", ts(2), metadata=MISSING, in_collections=MISSING, keyframes=MISSING, proxies=MISSING)]
    library.assets["a1"] = {"id": "a1", "in_collections": [UGC]}
    library.keyframes["a1"] = [{"type": "KEYFRAME", "url": "https://storage.example/a1/kf.jpg"}]
    library.proxies["a1"] = doc("a1", ts(2))["proxies"]
    library.view_values[("a1", V1)] = {"metadata_values": {
        "Keywords": {"field_values": [{"value": "beach"}, {"value": "sun"}]},
        "ClientName": {"field_values": [{"value": "Acme", "label": "Acme Corp"}]}}}
    library.view_values[("a1", V2)] = {"TalentName": {"values": [{"value": "Jo"}]}}  # legacy shape
    fallback = data(run(raw_config))

    def per_asset_calls(history):
        return [r.path for r in history if "/a1/" in r.path]

    assert per_asset_calls(library.mocker.request_history[:first_run]) == []
    assert len(per_asset_calls(library.mocker.request_history[first_run:])) == 5  # asset, 2 views, keyframes, proxies

    def without(record):
        return {k: v for k, v in record.items() if k not in ("ancestor_collections",)}

    assert len(embedded) == len(fallback) == 1
    assert without(fallback[0]) == without(embedded[0])
    assert fallback[0]["metadata"] == {"ClientName": ["Acme"], "Keywords": ["beach", "sun"], "TalentName": ["Jo"]}


def test_metadata_view_ids_limit_metadata_to_that_views_fields(library, raw_config):
    library.docs = [doc("a1", ts(2), metadata={"Keywords": ["k"], "TalentName": ["Jo"], "Other": ["x"]})]
    [record] = data(run({**raw_config, "metadata_view_ids": [V2]}))
    assert record["metadata"] == {"TalentName": ["Jo"]}


def test_status_and_media_type_filters_shape_the_search_body(library, raw_config):
    library.docs = [doc("a1", ts(2)), doc("a2", ts(3), media_type="image"), doc("a3", ts(4), status="DELETED")]
    output = run({**raw_config, "status": ["active"], "media_types": ["Image"]})
    terms = library.search_bodies[0]["filter"]["terms"]
    assert {"name": "status", "value_in": ["ACTIVE"]} in terms
    assert {"name": "media_type", "value_in": ["image"]} in terms
    assert [r["id"] for r in data(output)] == ["a2"]


def test_collection_ids_filter_on_ancestor_or_direct_collections(library, raw_config):
    library.docs = [doc("a1", ts(2), collections=[UGC], ancestor_collections=[ROOT]),
                    doc("a2", ts(3), collections=[ACDC], ancestor_collections=[ROOT])]
    output = run({**raw_config, "collection_ids": [ACDC]})
    [sub] = library.search_bodies[0]["filter"]["filters"]
    assert sub["operator"] == "OR"
    assert {t["name"] for t in sub["terms"]} == {"ancestor_collections", "in_collections"}
    assert all(t["value_in"] == [ACDC] for t in sub["terms"])
    assert [r["id"] for r in data(output)] == ["a2"]


def test_path_patterns_drop_records_outside_the_globs(library, raw_config):
    library.docs = [doc("a1", ts(2), collections=[UGC]), doc("a2", ts(3), collections=[ACDC]),
                    doc("a3", ts(4), collections=[])]
    output = run({**raw_config, "path_patterns": ["kitsch/02 ugc*"]})
    assert [r["id"] for r in data(output)] == ["a1"]


def test_original_file_is_used_when_no_proxy_is_usable(library, raw_config):
    library.docs = [doc("a1", ts(2), proxies=[{"id": "p", "url": "https://x/p.mp4", "status": "FAILED"}])]
    library.files["a1"] = [{"id": "f1", "type": "FILE", "status": "CLOSED", "format_id": "fmt",
                            "original_name": "master.mov", "size": 99, "url": "https://storage.example/master.mov"}]
    [record] = data(run(raw_config))
    assert record.get("proxy_url") is None
    assert record["original_url"] == record["file_url"] == "https://storage.example/master.mov"
    assert record["file_name"] == "master.mov"
    assert record["file_content_type"] == "video/quicktime"


def test_file_preference_none_leaves_file_fields_empty(library, raw_config):
    library.docs = [doc("a1", ts(2))]
    [record] = data(run({**raw_config, "file_preference": "none"}))
    assert record.get("file_url") is None and record.get("proxy_url") is None


def test_state_after_read_is_the_max_date_modified(library, raw_config):
    library.docs = [doc("a1", ts(3, 5)), doc("a2", ts(7, 9)), doc("a3", ts(4))]
    output = run({**raw_config, "page_size": 2})
    state = output.most_recent_state
    assert state.stream_descriptor.name == "assets"
    assert state.stream_state.date_modified == "2024-05-07T09:00:00.000000Z"


def test_second_read_filters_from_cursor_minus_lookback(library, raw_config):
    library.docs = [doc("old", ts(1)), doc("new", ts(9, 12))]
    state = StateBuilder().with_stream_state("assets", {"date_modified": "2024-05-09T12:00:00.000000Z"}).build()
    output = run({**raw_config, "lookback_window_seconds": 600}, state=state)
    terms = library.search_bodies[0]["filter"]["terms"]
    assert {"name": "date_modified", "range": {"min": "2024-05-09T11:50:00.000000Z"}} in terms
    assert [r["id"] for r in data(output)] == ["new"]
    assert output.most_recent_state.stream_state.date_modified == "2024-05-09T12:00:00.000000Z"


def test_first_incremental_read_starts_at_start_date(library, raw_config):
    library.docs = [doc("a1", ts(2))]
    run({**raw_config, "start_date": "2024-05-01T00:00:00Z"})
    terms = library.search_bodies[0]["filter"]["terms"]
    assert {"name": "date_modified", "range": {"min": "2024-05-01T00:00:00.000000Z"}} in terms


def test_start_date_wins_over_an_older_cursor(library, raw_config):
    library.docs = [doc("a1", ts(20))]
    state = StateBuilder().with_stream_state("assets", {"date_modified": "2024-05-01T00:00:00Z"}).build()
    run({**raw_config, "start_date": "2024-05-15T00:00:00Z"}, state=state)
    terms = library.search_bodies[0]["filter"]["terms"]
    assert {"name": "date_modified", "range": {"min": "2024-05-15T00:00:00.000000Z"}} in terms


def test_full_refresh_read_ignores_the_cursor(library, raw_config):
    library.docs = [doc("a1", ts(2))]
    state = StateBuilder().with_stream_state("assets", {"date_modified": "2024-05-09T00:00:00Z"}).build()
    output = run(raw_config, mode=SyncMode.full_refresh, state=state)
    assert all(t["name"] != "date_modified" for t in library.search_bodies[0]["filter"]["terms"])
    assert [r["id"] for r in data(output)] == ["a1"]


def test_unreadable_cursor_is_ignored_with_a_warning(library, raw_config):
    library.docs = [doc("a1", ts(2))]
    state = StateBuilder().with_stream_state("assets", {"date_modified": "not a date"}).build()
    output = run(raw_config, state=state)
    assert [r["id"] for r in data(output)] == ["a1"]
    assert output.is_in_logs("Ignoring an unreadable assets cursor")


def test_concurrent_enrichment_keeps_page_order(library, raw_config):
    library.docs = [doc(f"a{i}", ts(2, i), metadata=None) for i in range(6)]
    for i in range(6):
        library.view_values[(f"a{i}", V1)] = {"metadata_values": {"Keywords": {"field_values": [{"value": i}]}}}
    output = run({**raw_config, "concurrency": 4, "page_size": 4})
    records = data(output)
    assert [r["id"] for r in records] == [f"a{i}" for i in range(6)]
    assert [r["metadata"]["Keywords"] for r in records] == [[i] for i in range(6)]


def test_row_estimate_is_emitted_from_search_total(library, raw_config):
    library.docs = [doc("a1", ts(2)), doc("a2", ts(3))]
    output = run(raw_config)
    estimates = [t.trace.estimate for t in output.trace_messages if t.trace.estimate]
    assert [(e.name, e.row_estimate) for e in estimates] == [("assets", 2)]


def test_every_page_of_a_paged_read_uses_the_cursor_captured_at_start(library, raw_config):
    library.docs = [doc(f"a{i}", ts(10, i)) for i in range(5)]
    state = StateBuilder().with_stream_state("assets", {"date_modified": "2024-05-10T00:00:00Z"}).build()
    run({**raw_config, "page_size": 2, "lookback_window_seconds": 0}, state=state)
    filters = [body["filter"] for body in library.search_bodies]
    assert len(filters) == 3
    assert all(f == filters[0] for f in filters)


def test_state_is_checkpointed_after_every_page(library, raw_config):
    library.docs = [doc(f"a{i}", ts(2 + i)) for i in range(5)]
    output = run({**raw_config, "page_size": 2})
    cursors = [m.state.stream.stream_state.date_modified for m in output.state_messages]
    assert cursors[:3] == ["2024-05-03T00:00:00.000000Z", "2024-05-05T00:00:00.000000Z",
                           "2024-05-06T00:00:00.000000Z"]
    assert cursors[-1] == "2024-05-06T00:00:00.000000Z"


def test_a_failing_later_page_keeps_the_state_of_the_pages_before(library, raw_config, requests_mock):
    first = [dict(doc(f"a{i}", ts(2 + i)), _sort=[ts(2 + i), f"a{i}"]) for i in range(2)]
    requests_mock.post(f"{BASE}/API/search/v1/search/", [
        {"json": {"objects": first, "total": 4, "per_page": 2}},
        {"status_code": 400, "json": {"errors": ["Result window is too large"]}},
    ])
    output = read(SourceIconik(**FAST), {**raw_config, "page_size": 2},
                  CatalogBuilder().with_stream("assets", SyncMode.incremental).build(), expecting_exception=True)
    assert [r["id"] for r in data(output)] == ["a0", "a1"]
    assert output.most_recent_state.stream_state.date_modified == "2024-05-03T00:00:00.000000Z"
    assert any("Result window is too large" in (e.trace.error.message or "") for e in output.errors)


def test_per_view_fallback_only_reads_the_configured_views(library, raw_config):
    library.docs = [doc("a1", ts(2), metadata=MISSING)]
    library.view_values[("a1", V2)] = {"metadata_values": {"TalentName": {"field_values": [{"value": "Jo"}]}}}
    [record] = data(run({**raw_config, "metadata_view_ids": [V2]}))
    assert record["metadata"] == {"TalentName": ["Jo"]}
    view_calls = [r.path for r in library.mocker.request_history if r.path.startswith("/api/metadata/v1/assets/")]
    assert view_calls == [f"/api/metadata/v1/assets/a1/views/{V2}/"]


def test_proxy_only_never_falls_back_to_the_original(library, raw_config):
    library.docs = [doc("a1", ts(2), proxies=[])]
    library.files["a1"] = [{"id": "f1", "type": "FILE", "status": "CLOSED", "url": "https://storage.example/o.mov"}]
    [record] = data(run({**raw_config, "file_preference": "proxy_only"}))
    assert record.get("file_url") is None and record.get("original_url") is None
    assert not [r for r in library.mocker.request_history if r.path.endswith("/files/")]


def test_original_only_picks_the_original_format_file_and_asks_for_its_download_url(library, raw_config,
                                                                                    requests_mock):
    library.docs = [doc("a1", ts(2))]
    library.files["a1"] = [
        {"id": "f-proxy", "type": "FILE", "status": "CLOSED", "format_id": "fmt-proxy", "original_name": "p.mp4"},
        {"id": "f-orig", "type": "FILE", "status": "CLOSED", "format_id": "fmt-orig", "original_name": "o.mxf",
         "size": 5},
        {"id": "f-dir", "type": "DIRECTORY", "status": "CLOSED", "format_id": "fmt-orig", "original_name": "d"},
    ]
    requests_mock.get(f"{BASE}/API/files/v1/assets/a1/formats/ORIGINAL/", json={"id": "fmt-orig", "name": "ORIGINAL"})
    requests_mock.get(f"{BASE}/API/files/v1/assets/a1/files/f-orig/download_url/",
                      json={"url": "https://storage.example/o.mxf?sig=1"})
    [record] = data(run({**raw_config, "file_preference": "original_only"}))
    assert record.get("proxy_url") is None
    assert record["original_url"] == record["file_url"] == "https://storage.example/o.mxf?sig=1"
    assert record["file_name"] == "o.mxf"
    assert record["file_size"] == 5


def test_saved_cursor_is_handed_back_unchanged_when_nothing_is_newer(library, raw_config):
    library.docs = [doc("old", ts(1))]
    state = StateBuilder().with_stream_state("assets", {"date_modified": "2024-05-10T00:00:00Z"}).build()
    output = run(raw_config, state=state)
    assert data(output) == []
    assert output.most_recent_state.stream_state.date_modified == "2024-05-10T00:00:00Z"
