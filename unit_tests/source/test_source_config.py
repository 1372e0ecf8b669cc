"""parse_config: defaults for a minimal config, one readable config error per malformed field."""

from datetime import UTC, datetime

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iconik.config import parse_config

APP_ID = "2c5bfe1a-f149-11eb-a843-0a580a3db916"
TOKEN = "token-abcdefgh-12345"
VIEW_ID = "11111111-2222-3333-4444-555555555555"


def minimal(**extra):
    return {"app_id": APP_ID, "auth_token": TOKEN, **extra}


def test_minimal_config_gets_documented_defaults():
    config = parse_config(minimal())
    assert config.app_id == APP_ID
    assert config.auth_token == TOKEN
    assert config.base_url == "https://app.iconik.io"
    assert config.start_date is None
    assert config.collection_ids == ()
    assert config.path_patterns == ()
    assert config.status == ("ACTIVE",)
    assert config.media_types == ()
    assert config.metadata_view_ids == ()
    assert config.file_preference == "proxy_then_original"
    assert config.max_collection_depth == 10
    assert config.lookback_window_seconds == 300
    assert config.page_size == 500
    assert config.concurrency == 8


def test_values_are_normalised():
    config = parse_config(minimal(
        app_id=APP_ID.upper(), auth_token=f"  {TOKEN} ", base_url="https://eu.iconik.io/",
        start_date="2024-01-02T03:04:05Z", status=["active", "deleted"], media_types=["Video"],
        metadata_view_ids=[VIEW_ID], collection_ids=VIEW_ID, path_patterns=["Kitsch/*"],
    ))
    assert config.app_id == APP_ID
    assert config.auth_token == TOKEN
    assert config.base_url == "https://eu.iconik.io"
    assert config.start_date == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert config.status == ("ACTIVE", "DELETED")
    assert config.media_types == ("video",)
    assert config.collection_ids == (VIEW_ID,)  # a single string is accepted as a one-item list
    assert config.path_patterns == ("Kitsch/*",)


def test_naive_start_date_is_taken_as_utc():
    assert parse_config(minimal(start_date="2024-05-01T00:00:00")).start_date == datetime(2024, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize("base_url", ["http://localhost:8080", "http://127.0.0.1:47651", "http://[::1]:9000"])
def test_plain_http_is_allowed_for_loopback_hosts(base_url):
    assert parse_config(minimal(base_url=base_url)).base_url == base_url


MALFORMED = [
    ("not_an_object", ["app_id"], "JSON object"),
    ("bad_uuid", minimal(app_id="not-a-uuid"), "'app_id' must be a UUID"),
    ("missing_app_id", {"auth_token": TOKEN}, "'app_id' is required"),
    ("empty_token", minimal(auth_token="   "), "'auth_token' is required"),
    ("short_token", minimal(auth_token="abc"), "'auth_token' does not look like"),
    ("token_with_space", minimal(auth_token="abcd efgh ijkl"), "'auth_token' does not look like"),
    ("http_remote_host", minimal(base_url="http://app.iconik.io"), "'base_url' must use https://"),
    ("ftp_scheme", minimal(base_url="ftp://app.iconik.io"), "'base_url' must be an http(s) URL"),
    ("url_with_query", minimal(base_url="https://app.iconik.io/?x=1"), "'base_url' must be just the scheme"),
    ("url_not_string", minimal(base_url=42), "'base_url' must be a URL"),
    ("unknown_field", minimal(colection_ids=[]), "colection_ids"),
    ("negative_page_size", minimal(page_size=-5), "'page_size' must be between 1 and 1000"),
    ("huge_page_size", minimal(page_size=5000), "'page_size' must be between 1 and 1000"),
    ("bool_depth", minimal(max_collection_depth=True), "'max_collection_depth' must be a whole number"),
    ("string_concurrency", minimal(concurrency="4"), "'concurrency' must be a whole number"),
    ("negative_lookback", minimal(lookback_window_seconds=-1), "'lookback_window_seconds' must be between"),
    ("bad_glob", minimal(path_patterns=["Kitsch/[abc"]), "'path_patterns' has an invalid glob"),
    ("empty_glob", minimal(path_patterns=["  "]), "'path_patterns' contains an empty value"),
    ("unknown_status", minimal(status=["ARCHIVED"]), "'status' must list values from"),
    ("empty_status_list", minimal(status=[]), "'status' must list values from"),
    ("status_not_strings", minimal(status=[1, 2]), "'status' must be a list of strings"),
    ("bad_file_preference", minimal(file_preference="biggest"), "'file_preference' must be one of"),
    ("bad_start_date", minimal(start_date="yesterday"), "'start_date' must be an ISO 8601"),
    ("start_date_number", minimal(start_date=20240101), "'start_date' must be an ISO 8601"),
    ("bad_collection_id", minimal(collection_ids=["nope"]), "'collection_ids' must be a UUID"),
    ("bad_view_id", minimal(metadata_view_ids=["123"]), "'metadata_view_ids' must be a UUID"),
]


@pytest.mark.parametrize(("raw", "expected"), [(raw, expected) for _, raw, expected in MALFORMED],
                         ids=[name for name, _, _ in MALFORMED])
def test_malformed_config_raises_config_error_naming_the_field(raw, expected):
    with pytest.raises(AirbyteTracedException) as caught:
        parse_config(raw)
    assert caught.value.failure_type == FailureType.config_error
    assert expected in caught.value.message


def test_scope_key_ignores_order_and_case_of_patterns():
    one = parse_config(minimal(path_patterns=["B/*", "a/*"], media_types=["video", "image"]))
    two = parse_config(minimal(path_patterns=["A/*", "b/*"], media_types=["image", "video"]))
    assert one.scope_key == two.scope_key
    assert one.scope_key != parse_config(minimal()).scope_key
