"""IconikClient: relative next_url paging, retries on 429/5xx, readable 401/403, malformed JSON."""

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iconik import client as client_module
from source_iconik.errors import IconikBackoff, forbidden_message

BASE = "https://app.iconik.io"
LIST = "/API/assets/v1/collections/"


def page(objects, next_url=None, **extra):
    return {"objects": objects, "page": 1, "pages": 3, "per_page": 2, "total": 5, "next_url": next_url, **extra}


def test_paginate_follows_relative_next_url_across_three_pages(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}?per_page=2", json=page([{"id": 1}, {"id": 2}], f"{LIST}?page=2&per_page=2"))
    requests_mock.get(f"{BASE}{LIST}?page=2&per_page=2", json=page([{"id": 3}, {"id": 4}], f"{LIST}?page=3&per_page=2"))
    requests_mock.get(f"{BASE}{LIST}?page=3&per_page=2", json=page([{"id": 5}], None))
    items = list(make_client().paginate(LIST, {"per_page": 2}))
    assert [item["id"] for item in items] == [1, 2, 3, 4, 5]
    assert requests_mock.call_count == 3
    assert [r.qs.get("page") for r in requests_mock.request_history] == [None, ["2"], ["3"]]


def test_paginate_stops_when_next_url_is_null(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", json=page([{"id": 1}], None))
    assert [i["id"] for i in make_client().paginate(LIST)] == [1]
    assert requests_mock.call_count == 1


def test_paginate_stops_when_next_url_is_missing_or_empty(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", json={"objects": [{"id": 1}], "next_url": ""})
    assert [i["id"] for i in make_client().paginate(LIST)] == [1]
    assert requests_mock.call_count == 1


def test_paginate_treats_404_on_later_page_as_end(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", json=page([{"id": 1}], f"{LIST}?page=2"))
    requests_mock.get(f"{BASE}{LIST}?page=2", status_code=404, json={"errors": ["Requested page does not exist"]})
    assert [i["id"] for i in make_client().paginate(LIST)] == [1]


def test_paginate_tolerates_null_objects(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", json={"objects": None, "next_url": None})
    assert list(make_client().paginate(LIST)) == []


def test_requests_carry_app_id_and_token_headers(requests_mock, make_client, raw_config):
    requests_mock.get(f"{BASE}/API/users/v1/users/current/", json={"id": "u"})
    make_client().get("/API/users/v1/users/current/")
    sent = requests_mock.last_request.headers
    assert sent["App-ID"] == raw_config["app_id"]
    assert sent["Auth-Token"] == raw_config["auth_token"]


def test_429_with_retry_after_zero_then_200_succeeds(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", [
        {"status_code": 429, "headers": {"Retry-After": "0"}, "json": {"errors": ["Too many requests"]}},
        {"status_code": 200, "json": page([{"id": "ok"}])},
    ])
    client = make_client()
    assert client.get(LIST)["objects"] == [{"id": "ok"}]
    assert requests_mock.call_count == 2


def test_500_then_200_succeeds(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", [
        {"status_code": 500, "json": {"errors": ["boom"]}},
        {"status_code": 200, "json": page([{"id": "ok"}])},
    ])
    assert make_client().get(LIST)["objects"] == [{"id": "ok"}]
    assert requests_mock.call_count == 2


def test_401_is_config_error_naming_app_id_and_token(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", status_code=401, json={"errors": ["Token is invalid"]})
    with pytest.raises(AirbyteTracedException) as caught:
        make_client().get(LIST)
    assert caught.value.failure_type == FailureType.config_error
    assert "App ID or token" in caught.value.message
    assert requests_mock.call_count == 1  # not retried


def test_403_is_config_error_naming_the_missing_role(requests_mock, make_client):
    requests_mock.post(f"{BASE}/API/search/v1/search/", status_code=403, json={"errors": ["Forbidden"]})
    with pytest.raises(AirbyteTracedException) as caught:
        make_client().post("/API/search/v1/search/", body={"query": ""})
    assert caught.value.failure_type == FailureType.config_error
    assert "can_search" in caught.value.message
    assert "403 Forbidden" in caught.value.message


def test_400_is_config_error_quoting_iconik_errors(requests_mock, make_client):
    requests_mock.post(f"{BASE}/API/search/v1/search/", status_code=400,
                       json={"errors": {"filter": "Unknown field"}})
    with pytest.raises(AirbyteTracedException) as caught:
        make_client().post("/API/search/v1/search/", body={})
    assert caught.value.failure_type == FailureType.config_error
    assert "filter: Unknown field" in caught.value.message


def test_404_without_allow_404_raises_naming_the_path(requests_mock, make_client):
    requests_mock.get(f"{BASE}/API/assets/v1/assets/x/", status_code=404, json={"errors": ["Asset does not exist"]})
    with pytest.raises(AirbyteTracedException) as caught:
        make_client().get("/API/assets/v1/assets/x/")
    assert "/API/assets/v1/assets/x/" in caught.value.message
    assert "Asset does not exist" in caught.value.message


def test_404_with_allow_404_returns_none(requests_mock, make_client):
    requests_mock.get(f"{BASE}/API/assets/v1/assets/x/", status_code=404, json={"errors": ["nope"]})
    assert make_client().get("/API/assets/v1/assets/x/", allow_404=True) is None


def test_malformed_json_is_retried_then_succeeds(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", [{"status_code": 200, "text": "<html>oops"},
                                        {"status_code": 200, "json": {"objects": []}}])
    assert make_client().get(LIST) == {"objects": []}
    assert requests_mock.call_count == 2


def test_malformed_json_after_retries_gives_clear_error(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", status_code=200, text="{not json")
    with pytest.raises(AirbyteTracedException) as caught:
        make_client().get(LIST)
    assert "malformed JSON" in caught.value.message
    assert LIST in caught.value.message
    assert caught.value.failure_type == FailureType.transient_error
    assert requests_mock.call_count == 3


def test_calls_are_counted_per_path(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", json={"objects": []})
    client = make_client()
    client.get(LIST, {"page": 1})
    client.get(LIST + "?page=2")
    assert client.calls[LIST] == 2


def test_backoff_honours_retry_after_and_caps_it():
    response = requests.Response()
    response.headers["Retry-After"] = "7"
    assert IconikBackoff(base=1.0).backoff_time(response, 1) == 7.0
    response.headers["Retry-After"] = "9999"
    assert IconikBackoff(base=1.0, cap=60.0).backoff_time(response, 1) == 60.0


def test_backoff_is_exponential_without_retry_after():
    backoff = IconikBackoff(base=0.5, cap=3.0)
    assert [backoff.backoff_time(None, n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(("url", "role"), [
    ("https://h/API/files/v1/assets/a/proxies/", "can_read_proxies"),
    ("https://h/API/metadata/v1/views/", "can_read_metadata"),
    ("https://h/API/assets/v1/delete_queue/assets/", "recycle bin"),
    ("https://h/API/assets/v1/collections/", "can_read_collections"),
])
def test_forbidden_message_names_the_role_of_the_path(url, role):
    assert role in forbidden_message(url)


def test_paginate_follows_an_absolute_next_url(requests_mock, make_client):
    requests_mock.get(f"{BASE}{LIST}", json=page([{"id": 1}], f"{BASE}{LIST}?page=2"))
    requests_mock.get(f"{BASE}{LIST}?page=2", json=page([{"id": 2}], None))
    assert [i["id"] for i in make_client().paginate(LIST)] == [1, 2]


def test_clients_of_one_token_share_one_rate_budget(make_client):
    one, two = make_client(), make_client()
    other = make_client(auth_token="another-token-123456")
    assert one._http._api_budget is two._http._api_budget
    assert one._http._api_budget is not other._http._api_budget


def test_low_ratelimit_remaining_makes_the_client_pause(requests_mock, make_client, monkeypatch):
    pauses = []
    monkeypatch.setattr(client_module.time, "sleep", pauses.append)
    requests_mock.get(f"{BASE}{LIST}", [{"json": {}, "headers": {"RateLimit-Remaining": "900"}},
                                        {"json": {}, "headers": {"RateLimit-Remaining": "50"}}])
    client = make_client()
    client.get(LIST)
    assert pauses == []
    client.get(LIST)
    assert pauses == [pytest.approx(1.0)]  # (100 - 50) / 50 per second
