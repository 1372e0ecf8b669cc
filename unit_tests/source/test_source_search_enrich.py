"""SearchPager's search_after loop and when it stops; scope_filter; flattening metadata view values."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from source_iconik.config import parse_config
from source_iconik.enrich import flatten_view_values
from source_iconik.search import SearchPager, iso_z, scope_filter

BASE = "https://app.iconik.io"
SEARCH = f"{BASE}/API/search/v1/search/"


def docs(*ids):
    return [{"id": i, "_sort": [1, i]} for i in ids]


def envelope(objects, total=None, per_page=None):
    return {"json": {"objects": objects, "total": total, "per_page": per_page}}


def test_pager_stops_on_a_short_page(requests_mock, make_client):
    requests_mock.post(SEARCH, [envelope(docs("a", "b"), total=3), envelope(docs("c"), total=3)])
    pager = SearchPager(make_client(), {"operator": "AND", "terms": []}, page_size=2)
    pages = []
    while not pager.done:
        pages.append([d["id"] for d in pager.next_page()])
    assert pages == [["a", "b"], ["c"]]
    assert (pager.seen, pager.total, pager.pages) == (3, 3, 2)
    assert requests_mock.request_history[1].json()["search_after"] == [1, "b"]
    assert pager.next_page() is None


def test_pager_stops_on_an_empty_page(requests_mock, make_client):
    requests_mock.post(SEARCH, [envelope(docs("a", "b")), envelope([])])
    pager = SearchPager(make_client(), {}, page_size=2)
    assert len(pager.next_page()) == 2 and not pager.done
    assert pager.next_page() == [] and pager.done


def test_pager_stops_when_documents_lack_sort_keys(requests_mock, make_client):
    requests_mock.post(SEARCH, json={"objects": [{"id": "a"}, {"id": "b"}]})
    pager = SearchPager(make_client(), {}, page_size=2)
    pager.next_page()
    assert pager.done
    assert requests_mock.call_count == 1


def test_pager_goes_on_after_a_short_page_while_total_is_unseen(requests_mock, make_client):
    requests_mock.post(SEARCH, [envelope(docs("a"), total=2), envelope(docs("b"), total=2)])
    pager = SearchPager(make_client(), {}, page_size=10)
    pager.next_page()
    assert not pager.done
    pager.next_page()
    assert pager.done and pager.seen == 2


def test_pager_sends_page_size_and_quiet_flags_as_query_params(requests_mock, make_client):
    requests_mock.post(SEARCH, json={"objects": []})
    SearchPager(make_client(), {"operator": "AND"}, page_size=7, params={"generate_signed_url": "true"},
                include_fields=["id"]).next_page()
    sent = requests_mock.last_request
    assert sent.qs == {"per_page": ["7"], "page": ["1"], "generate_signed_url": ["true"],
                       "save_search_history": ["false"]}
    body = sent.json()
    assert body["include_fields"] == ["id"]
    assert body["filter"] == {"operator": "AND"}
    assert body["query"] == ""


def test_scope_filter_has_only_status_for_a_minimal_config(raw_config):
    assert scope_filter(parse_config(raw_config)) == {
        "operator": "AND", "terms": [{"name": "status", "value_in": ["ACTIVE"]}]}


def test_iso_z_converts_to_utc_with_microseconds():
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert iso_z(moment) == "2024-05-01T10:00:00.000000Z"
    assert iso_z(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00.000000Z"


@pytest.mark.parametrize(("body", "expected"), [
    (None, {}),
    ({}, {}),
    ({"metadata_values": {"K": {"field_values": [{"value": "a"}, {"value": "b", "score": 1}]}}}, {"K": ["a", "b"]}),
    ({"metadata_values": {"K": {"field_values": None}, "E": {"field_values": []}}}, {}),
    ({"metadata_values": {"K": None}}, {}),
    ({"metadata_values": {"U": {"field_values": [{"value": "https://x", "label": "Click"}]}}}, {"U": ["https://x"]}),
    ({"K": {"values": [{"value": 1}, {"value": 2}]}, "object_id": "a1"}, {"K": [1, 2]}),
    ({"metadata_values": {"K": {"field_values": ["plain"]}}}, {"K": ["plain"]}),
])
def test_flatten_view_values(body, expected):
    assert flatten_view_values(body) == expected
