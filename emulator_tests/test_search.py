"""`POST /API/search/v1/search/`: filters, sort, projection, facets, search_after, the 10,000 window, index lag."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime

import pytest

from emulator_tests.helpers import Api
from iconik_emulator import EmulatorServer, LibraryConfig

QUIET = {"generate_signed_url": "false", "save_search_history": "false"}


def _assets(api: Api) -> list[dict]:
    return list(api.emu.state.lib.assets.values())


def _search_all(api: Api, body: dict, per_page: int = 1000) -> dict:
    """One page of asset results; with the default per_page, every match."""
    response = api.search({"doc_types": ["assets"], **body}, per_page=per_page, **QUIET)
    assert response.status_code == 200, response.text[:300]
    page = response.json()
    assert page["total"] <= per_page or per_page != 1000
    return page


def _ids(page: dict) -> set[str]:
    return {o["id"] for o in page["objects"]}


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


# ---- filters --------------------------------------------------------------------------------------------------
def test_term_value_and_value_in(api):
    assets = _assets(api)
    videos = {a["id"] for a in assets if a["media_type"] == "video"}
    page = _search_all(api, {"filter": {"operator": "AND", "terms": [{"name": "media_type", "value": "video"}]}})
    assert 0 < len(videos) < len(assets)
    assert _ids(page) == videos and page["total"] == len(videos)
    others = {a["id"] for a in assets if a["media_type"] in ("image", "audio")}
    page = _search_all(api, {"filter": {"operator": "AND",
                                        "terms": [{"name": "media_type", "value_in": ["image", "audio"]}]}})
    assert _ids(page) == others
    assert _ids(page) | videos == {a["id"] for a in assets}


def test_term_on_flattened_metadata(api):
    assets = _assets(api)
    truth = api.emu.truth
    expected = {a["id"] for a in assets if "beach" in truth.metadata(a["id"]).get("Keywords", [])}
    assert expected
    page = _search_all(api, {"filter": {"operator": "AND", "terms": [{"name": "metadata.Keywords", "value": "beach"}]}})
    assert _ids(page) == expected


def test_range_on_dates_is_inclusive(api):
    assets = sorted(_assets(api), key=lambda a: a["date_created"])
    low, high = assets[30]["date_created"], assets[90]["date_created"]
    expected = {a["id"] for a in assets if _dt(low) <= _dt(a["date_created"]) <= _dt(high)}
    assert len(expected) >= 61  # both bounds included
    page = _search_all(api, {"filter": {"operator": "AND", "terms": [
        {"name": "date_created", "range": {"min": low, "max": high}}]}})
    assert _ids(page) == expected
    open_ended = _search_all(api, {"filter": {"operator": "AND", "terms": [
        {"name": "date_created", "range": {"min": high}}]}})
    assert _ids(open_ended) == {a["id"] for a in assets if _dt(a["date_created"]) >= _dt(high)}


def test_range_on_numbers(api):
    assets = _assets(api)
    expected = {a["id"] for a in assets if a["duration_milliseconds"] is not None
                and 100_000 <= a["duration_milliseconds"] <= 300_000}
    page = _search_all(api, {"filter": {"operator": "AND", "terms": [
        {"name": "duration_milliseconds", "range": {"min": "100000", "max": "300000"}}]}})
    assert expected and _ids(page) == expected


def test_exists_and_missing(api):
    assets = _assets(api)
    with_external = {a["id"] for a in assets if a["external_id"] is not None}
    assert 0 < len(with_external) < len(assets)
    exists = _search_all(api, {"filter": {"operator": "AND", "terms": [{"name": "external_id", "exists": True}]}})
    missing = _search_all(api, {"filter": {"operator": "AND", "terms": [{"name": "external_id", "missing": True}]}})
    assert _ids(exists) == with_external
    assert _ids(missing) == {a["id"] for a in assets} - with_external


def test_nested_filters_combine_and_or(api):
    assets = _assets(api)
    expected = {a["id"] for a in assets if a["media_type"] == "image"
                or (a["media_type"] == "video" and a["category"] == "Footage")}
    body = {"filter": {"operator": "OR", "terms": [{"name": "media_type", "value": "image"}], "filters": [
        {"operator": "AND", "terms": [{"name": "media_type", "value": "video"}, {"name": "category", "value": "Footage"}]}
    ]}}
    page = _search_all(api, body)
    assert _ids(page) == expected
    assert any(a["media_type"] == "video" for a in assets if a["id"] in expected)


def test_doc_types_and_bad_filters(api):
    page = api.search({"doc_types": ["collections"]}, per_page=1000).json()
    assert _ids(page) == set(api.emu.state.lib.collections)
    assert {o["object_type"] for o in page["objects"]} == {"collections"}
    for bad in ({"filter": {"operator": "XOR", "terms": []}}, {"filter": {"operator": "AND", "terms": [{"value": "x"}]}},
                {"filter": {"operator": "AND", "terms": [{"name": "title"}]}}):
        assert api.search(bad).status_code == 400, bad
    response = api.post("/API/search/v1/search/", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


# ---- sort, projection, facets -----------------------------------------------------------------------------------
def test_sort_orders_documents_and_fills_sort_keys(api):
    by_title = _search_all(api, {"sort": [{"name": "title", "order": "asc"}, {"name": "id", "order": "asc"}]})
    pairs = [(o["title"], o["id"]) for o in by_title["objects"]]
    assert pairs == sorted(pairs)
    assert [o["_sort"] for o in by_title["objects"]] == [list(p) for p in pairs]
    by_modified = _search_all(api, {"sort": [{"name": "date_modified", "order": "desc"}]})
    stamps = [_dt(o["date_modified"]) for o in by_modified["objects"]]
    assert stamps == sorted(stamps, reverse=True)
    first = by_modified["objects"][0]
    assert first["_sort"] == [int(_dt(first["date_modified"]).timestamp() * 1000)]  # dates as epoch ms
    default = _search_all(api, {})  # date_created descending when no sort is given
    created = [_dt(o["date_created"]) for o in default["objects"]]
    assert created == sorted(created, reverse=True)


def test_include_and_exclude_fields(api):
    page = _search_all(api, {"include_fields": ["title", "files.size"]}, per_page=20)
    for doc in page["objects"]:
        assert set(doc) == {"id", "object_type", "title", "files", "_sort", "_highlight"}
    page = _search_all(api, {"exclude_fields": ["metadata", "versions"]}, per_page=20)
    for doc in page["objects"]:
        assert "metadata" not in doc and "versions" not in doc and "title" in doc


def test_facets_count_every_matching_document(api):
    assets = _assets(api)
    page = api.search({"doc_types": ["assets"], "facets": ["media_type", "status"]}, per_page=0).json()
    assert page["objects"] == [] and page["total"] == len(assets)  # per_page=0: facets only
    buckets = {b["key"]: b["doc_count"] for b in page["facets"]["media_type"]["buckets"]}
    assert buckets == dict(Counter(a["media_type"] for a in assets))
    assert page["facets"]["status"]["buckets"] == [{"key": "ACTIVE", "doc_count": len(assets)}]
    counts = [b["doc_count"] for b in page["facets"]["media_type"]["buckets"]]
    assert counts == sorted(counts, reverse=True)


def test_search_page_past_the_last_is_404_and_next_url_is_relative(api):
    first = api.search({"doc_types": ["assets"]}, per_page=100).json()
    assert first["pages"] == 2 and first["next_url"].startswith("/API/search/v1/search/?")
    last = api.search({"doc_types": ["assets"]}, per_page=100, page=2).json()
    assert len(last["objects"]) == 50 and last["next_url"] is None
    response = api.search({"doc_types": ["assets"]}, per_page=100, page=3)
    assert response.status_code == 404
    assert response.json() == {"errors": ["Requested page does not exist"]}


# ---- search_after ---------------------------------------------------------------------------------------------
def test_search_after_returns_every_document_once_while_assets_change(fresh_emu):
    api = Api(fresh_emu)
    control = fresh_emu.control
    all_ids = set(fresh_emu.state.lib.assets)
    body = {"doc_types": ["assets"], "include_fields": ["id", "title", "date_created"],
            "sort": [{"name": "date_created", "order": "asc"}, {"name": "id", "order": "asc"}]}
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        request = dict(body, search_after=after) if after else body
        response = api.search(request, per_page=7, **QUIET)
        assert response.status_code == 200, response.text[:300]
        objects = response.json()["objects"]
        if not objects:
            break
        pages += 1
        seen += [o["id"] for o in objects]
        after = objects[-1]["_sort"]
        # Between pages: change an asset already read, one not read yet, and delete one not read yet.
        unread = sorted(all_ids - set(seen))
        control.modify_asset(seen[0], title=f"changed on page {pages}")
        if unread:
            control.modify_asset(unread[-1], title=f"changed ahead {pages}")
            control.delete_asset(unread[0])
    assert pages == -(-len(all_ids) // 7)
    assert len(seen) == len(set(seen)), "a document came twice"
    assert set(seen) == all_ids, "a document was skipped"


def test_search_after_past_the_end_is_an_empty_page(api):
    body = {"doc_types": ["assets"], "sort": [{"name": "date_created", "order": "asc"}, {"name": "id", "order": "asc"}]}
    last = _search_all(api, body)["objects"][-1]
    response = api.search({**body, "search_after": last["_sort"]}, per_page=10)
    assert response.status_code == 200 and response.json()["objects"] == []
    assert api.search({**body, "search_after": ["only one key"]}).status_code == 400


# ---- the 10,000 window ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_api():
    with EmulatorServer(LibraryConfig(assets=10_050, seed=5), latency_ms=0, rate_limit=False) as server:
        yield Api(server)


def test_result_window_is_10000_and_search_after_reaches_past_it(big_api):
    body = {"doc_types": ["assets"], "include_fields": ["id"],
            "sort": [{"name": "date_created", "order": "asc"}, {"name": "id", "order": "asc"}]}
    deepest = big_api.search(body, per_page=1000, page=10, **QUIET)  # results 9,001..10,000: allowed
    assert deepest.status_code == 200 and len(deepest.json()["objects"]) == 1000
    for page, per_page in ((11, 1000), (101, 100), (2, 5001), (10_001, 1)):
        response = big_api.search(body, per_page=per_page, page=page, **QUIET)
        assert response.status_code == 400, (page, per_page)
        assert response.json()["errors"]
    seen, after = [], None
    while True:
        response = big_api.search(dict(body, search_after=after) if after else body, per_page=1000, **QUIET)
        assert response.status_code == 200
        objects = response.json()["objects"]
        if not objects:
            break
        seen += [o["id"] for o in objects]
        after = objects[-1]["_sort"]
    assert len(seen) == 10_050 == len(set(seen))
    assert set(seen) == set(big_api.emu.state.lib.assets)


# ---- index lag -----------------------------------------------------------------------------------------------
def test_index_lag_hides_changes_from_search_but_not_from_get(fresh_emu):
    api = Api(fresh_emu)
    lag = 1.5
    fresh_emu.control.set_index_lag(lag)
    asset_id = sorted(fresh_emu.state.lib.assets)[3]
    old_title = api.ok(f"/API/assets/v1/assets/{asset_id}/")["title"]
    by_title = {"doc_types": ["assets"], "filter": {"operator": "AND", "terms": [
        {"name": "title", "value": "Lag probe title"}]}}
    by_id = {"doc_types": ["assets"], "filter": {"operator": "AND", "terms": [{"name": "id", "value": asset_id}]}}
    changed_at = time.monotonic()
    fresh_emu.control.modify_asset(asset_id, title="Lag probe title")
    assert api.ok(f"/API/assets/v1/assets/{asset_id}/")["title"] == "Lag probe title"  # GET: at once
    assert api.search(by_title).json()["total"] == 0
    assert api.search(by_id).json()["objects"][0]["title"] == old_title  # search: the old document
    assert time.monotonic() - changed_at < lag, "too slow to observe the lag"
    time.sleep(lag - (time.monotonic() - changed_at) + 0.15)
    assert api.search(by_title).json()["total"] == 1
    assert api.search(by_id).json()["objects"][0]["title"] == "Lag probe title"
    # With lag 0 changes are visible at once.
    fresh_emu.control.set_index_lag(0)
    fresh_emu.control.modify_asset(asset_id, title="No lag")
    assert api.search(by_id).json()["objects"][0]["title"] == "No lag"
