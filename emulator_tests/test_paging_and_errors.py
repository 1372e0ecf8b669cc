"""Page envelopes, cursors, limits of page parameters, and the error statuses of auth and missing objects."""

from __future__ import annotations

import copy
import http.client
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from emulator_tests.helpers import Api
from iconik_emulator import NON_ADMIN_AUTH_TOKEN

A, F, M = "/API/assets/v1", "/API/files/v1", "/API/metadata/v1"
ENVELOPE = {"objects", "page", "pages", "per_page", "total", "first_url", "last_url", "next_url", "prev_url",
            "scroll_id"}


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_numbered_pages_follow_relative_next_url_to_a_null_on_the_last_page(api):
    all_ids = set(api.emu.state.lib.assets)
    assert len(all_ids) == 150
    first = api.ok(f"{A}/assets/", params={"per_page": 40})
    assert ENVELOPE <= set(first)
    assert (first["page"], first["pages"], first["per_page"], first["total"]) == (1, 4, 40, 150)
    assert first["prev_url"] is None
    seen, page, pages_walked = [], first, 1
    while True:
        seen += [a["id"] for a in page["objects"]]
        if page["next_url"] is None:
            break
        next_url = page["next_url"]
        assert next_url.startswith(f"{A}/assets/?"), next_url  # relative to the host, not absolute
        assert _query(next_url) == {"page": str(page["page"] + 1), "per_page": "40"}
        page = api.ok(next_url)
        pages_walked += 1
    assert pages_walked == 4
    assert page["page"] == 4 and len(page["objects"]) == 150 - 3 * 40
    assert "next_url" in page and page["next_url"] is None  # present as JSON null, not missing
    assert _query(page["prev_url"]) == {"page": "3", "per_page": "40"}
    assert len(seen) == len(set(seen)) == 150 and set(seen) == all_ids


def test_page_past_the_last_is_404(api):
    response = api.get(f"{A}/assets/", params={"per_page": 40, "page": 5})
    assert response.status_code == 404
    assert response.json() == {"errors": ["Requested page does not exist"]}
    assert api.get(f"{A}/collections/", params={"per_page": 1000, "page": 2}).status_code == 404
    assert api.get(f"{A}/assets/", params={"per_page": 40, "page": 4}).status_code == 200


def test_default_per_page_is_10_and_maximum_is_1000(api):
    assert api.ok(f"{A}/assets/")["per_page"] == 10
    page = api.ok(f"{A}/assets/", params={"per_page": 1000})
    assert page["per_page"] == 1000 and len(page["objects"]) == 150 and page["next_url"] is None
    for bad in (1001, 5000, -1, "ten"):
        response = api.get(f"{A}/assets/", params={"per_page": bad})
        assert response.status_code == 400, bad
        assert "per_page" in response.json()["errors"]
    assert api.get(f"{A}/assets/", params={"page": 0}).status_code == 400
    assert api.get(f"{A}/assets/", params={"page": 10_001}).status_code == 400


def test_collection_contents_next_url_keeps_the_object_types_filter(api):
    lib = api.emu.state.lib
    parent = max(lib.collections, key=lambda c: sum(c in a["in_collections"] for a in lib.assets.values()))
    expected = {a["id"] for a in lib.assets.values() if parent in a["in_collections"]}
    assert len(expected) > 2
    page = api.ok(f"{A}/collections/{parent}/contents/", params={"object_types": "assets", "per_page": 2})
    seen = []
    while True:
        seen += [o["id"] for o in page["objects"]]
        assert all(o["object_type"] == "assets" for o in page["objects"])
        if not page["next_url"]:
            break
        assert _query(page["next_url"])["object_types"] == "assets"
        page = api.ok(page["next_url"])
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_last_id_cursor_on_proxies(fresh_emu):
    api = Api(fresh_emu)
    lib = fresh_emu.state.lib
    asset_id = next(a for a in sorted(lib.assets) if lib.proxies.get(a))
    # A second and third proxy (the generator makes one per asset), so the cursor has pages to walk.
    for _ in range(2):
        extra = copy.deepcopy(lib.proxies[asset_id][0])
        extra["id"] = str(uuid.uuid4())
        lib.proxies[asset_id].append(extra)
    expected = sorted(p["id"] for p in lib.proxies[asset_id])
    path = f"{F}/assets/{asset_id}/proxies/"
    first = api.ok(path, params={"per_page": 2})
    assert [p["id"] for p in first["objects"]] == expected[:2]
    assert _query(first["next_url"]) == {"per_page": "2", "last_id": expected[1]}
    assert first["next_url"].startswith(path)
    second = api.ok(first["next_url"])
    assert [p["id"] for p in second["objects"]] == expected[2:]
    assert second["next_url"] is None
    after_all = api.ok(path, params={"last_id": expected[-1]})
    assert after_all["objects"] == [] and after_all["next_url"] is None


def test_last_field_name_cursor_on_metadata_fields(api):
    names = sorted(api.emu.state.lib.fields)
    page = api.ok(f"{M}/fields/", params={"per_page": 3})
    seen = []
    while True:
        seen += [f["name"] for f in page["objects"]]
        if not page["next_url"]:
            break
        assert _query(page["next_url"])["last_field_name"] == page["objects"][-1]["name"]
        page = api.ok(page["next_url"])
    assert seen == names
    assert api.ok(f"{M}/fields/")["per_page"] == 500  # the fields list defaults to 500


# ---- authentication ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {}, {"App-ID": "x"}, {"Auth-Token": "y"},
    {"App-ID": "5f0c4b8e-6a1d-11ef-9c2a-0242ac120002"},
    {"App-ID": "5f0c4b8e-6a1d-11ef-9c2a-0242ac120002", "Auth-Token": "wrong-token-0123456789"},
    {"App-ID": str(uuid.UUID(int=1)), "Auth-Token": "emulator-token-0123456789abcdef"},
], ids=["none", "app-id-only-bad", "token-only", "app-id-only", "wrong-token", "wrong-app-id"])
def test_missing_or_wrong_credentials_are_401(emu, headers):
    for path in ("/API/users/v1/users/current/", f"{A}/assets/"):
        response = requests.get(emu.base_url + path, headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json() == {"errors": ["Token is invalid"]}
    response = requests.post(emu.base_url + "/API/search/v1/search/", json={}, headers=headers, timeout=10)
    assert response.status_code == 401


@pytest.mark.parametrize(("app_header", "token_header"), [
    ("App-ID", "Auth-Token"), ("app-id", "auth-token"), ("APP-ID", "AUTH-TOKEN"), ("App-Id", "Auth-token")])
def test_header_names_are_case_insensitive(emu, app_header, token_header):
    # http.client sends header names exactly as given.
    connection = http.client.HTTPConnection(emu.host, emu.port, timeout=10)
    try:
        connection.request("GET", "/API/users/v1/users/current/",
                           headers={app_header: emu.app_id, token_header: emu.auth_token})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 200, body[:200]


def test_credential_values_are_case_sensitive(emu):
    response = requests.get(emu.base_url + "/API/users/v1/users/current/",
                            headers={"App-ID": emu.app_id, "Auth-Token": emu.auth_token.upper()}, timeout=10)
    assert response.status_code == 401


# ---- missing objects and permissions -------------------------------------------------------------------------
def test_unknown_objects_are_404_with_an_errors_body(api):
    missing = str(uuid.UUID(int=12345, version=1))
    asset_id = sorted(api.emu.state.lib.assets)[0]
    for path, message in ((f"{A}/assets/{missing}/", "Asset does not exist"),
                          (f"{A}/collections/{missing}/", "Collection does not exist"),
                          (f"{A}/collections/{missing}/contents/", "Collection does not exist"),
                          (f"{F}/assets/{missing}/proxies/", "Asset does not exist"),
                          (f"{F}/assets/{asset_id}/formats/NOT_A_FORMAT/", "Format does not exist"),
                          (f"{M}/views/{missing}/", "Metadata view does not exist")):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"errors": [message]}, path


def test_metadata_view_without_values_is_404_while_a_view_with_values_is_200(api):
    lib = api.emu.state.lib
    # An asset with values in one view and none in another (the generator skips a view for ~25 % of assets).
    asset_id = next(a for a in sorted(lib.assets) if len({(a, v["id"]) in lib.values for v in lib.views}) == 2)
    used = next(v["id"] for v in lib.views if (asset_id, v["id"]) in lib.values)
    unused = next(v["id"] for v in lib.views if (asset_id, v["id"]) not in lib.values)
    response = api.get(f"{M}/assets/{asset_id}/views/{unused}/")
    assert response.status_code == 404
    assert response.json() == {"errors": ["Metadata values for this object and view doesn't exist"]}
    body = api.ok(f"{M}/assets/{asset_id}/views/{used}/")
    assert body["object_id"] == asset_id and body["object_type"] == "assets"
    assert {k: [v["value"] for v in fv["field_values"]] for k, fv in body["metadata_values"].items()} == {
        k: [v["value"] for v in vals] for k, vals in lib.values[(asset_id, used)].items()}


def test_admin_all_metadata_endpoint_is_403_for_a_non_admin_token(api, emu):
    asset_id = next(a for a in sorted(emu.state.lib.assets) if emu.truth.metadata(a))
    path = f"{M}/assets/{asset_id}/"
    non_admin = {"App-ID": emu.app_id, "Auth-Token": NON_ADMIN_AUTH_TOKEN}
    response = requests.get(emu.base_url + path, headers=non_admin, timeout=10)
    assert response.status_code == 403
    assert response.json()["errors"]
    # The same token is valid elsewhere (so the 403 is about the role, not the credentials).
    me = requests.get(emu.base_url + "/API/users/v1/users/current/", headers=non_admin, timeout=10)
    assert me.status_code == 200 and me.json()["is_admin"] is False
    admin = api.ok(path)
    flattened = {k: [v["value"] for v in fv["field_values"]] for k, fv in admin["metadata_values"].items()}
    assert flattened == emu.truth.metadata(asset_id)
    assert api.ok("/API/users/v1/users/current/")["is_admin"] is True


def test_unknown_paths_are_404_json(api):
    response = api.get("/API/assets/v1/no_such_thing/")
    assert response.status_code == 404
    assert response.json() == {"errors": ["Not found"]}
