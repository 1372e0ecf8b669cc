"""Every implemented emulator endpoint answers with a body valid against iconik's own OpenAPI response schema.

The specs are OpenAPI 3.0.3 (`components/schemas`). Their `$ref`s are resolved through a `referencing`
registry holding each spec as a resource. Since the live API returns `null` for optional fields the spec does
not mark nullable (iconik-api.md §1.5), every property other than `id` is made nullable; `required`, types,
enums and the `uuid` / `date-time` formats are still enforced. The real captured responses in
`iconik-samples/` must pass the same validators, so the transformation cannot hide a wrong schema choice.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from emulator_tests.helpers import Api

SPEC_DIR = Path("/work/shared/iconik-openapi")
SAMPLE_DIR = Path("/work/shared/iconik-samples")
SPECS = ("assets", "files", "metadata", "search", "users", "notifications")
NULL = {"type": "null"}


def _nullable(schema: dict) -> dict:
    if "$ref" in schema or "allOf" in schema or "oneOf" in schema or "anyOf" in schema:
        return {"anyOf": [schema, NULL]}
    out = dict(schema)
    if "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"] if "null" not in types else types
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def relax(node, nullable_props: bool = True):
    """A copy of an OpenAPI 3.0 schema as JSON Schema 2020-12, with every non-`id` property nullable."""
    if isinstance(node, list):
        return [relax(item, nullable_props) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            props = {}
            for name, sub in value.items():
                sub = relax(sub, nullable_props)
                props[name] = _nullable(sub) if nullable_props and name != "id" else sub
            out[key] = props
        elif key == "nullable":
            continue
        elif key in ("example", "examples"):
            out[key] = value
        else:
            out[key] = relax(value, nullable_props)
    if node.get("nullable") is True:
        out = _nullable(out)
    return out


def _load(name: str) -> dict:
    return json.loads((SPEC_DIR / f"{name}.json").read_text())


@cache
def registry() -> Registry:
    resources = [(f"urn:iconik:{name}", Resource.from_contents(relax(_load(name)), default_specification=DRAFT202012))
                 for name in SPECS]
    return Registry().with_resources(resources)


@cache
def validator(spec: str, schema: str) -> Draft202012Validator:
    assert schema in _load(spec)["components"]["schemas"], f"{schema} is not in {spec}.json"
    return Draft202012Validator({"$ref": f"urn:iconik:{spec}#/components/schemas/{schema}"}, registry=registry(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def response_schema(spec: str, path: str, method: str = "get") -> str:
    """The schema name the spec gives for the 200/201 response of `method path` (path relative to the server)."""
    responses = _load(spec)["paths"][path][method]["responses"]
    ok = responses.get("200") or responses.get("201")
    return ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


def assert_valid(spec: str, schema: str, body) -> None:
    errors = sorted(validator(spec, schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{spec}:{schema}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:10])


# ---- the transformation itself ------------------------------------------------------------------------------
def test_relaxed_schema_still_rejects_wrong_types_missing_required_and_bad_formats():
    valid = {"id": "2c5bfe1a-f149-11eb-a843-0a580a3db916", "title": "x", "status": None, "date_created": None}
    assert_valid("assets", "AssetSchema", valid)
    for broken in ({**valid, "id": None}, {**valid, "id": "not-a-uuid"}, {**valid, "status": "SOMETIMES"},
                   {**valid, "date_created": "yesterday"}, {**valid, "is_online": "yes"},
                   {k: v for k, v in valid.items() if k != "title"}):
        with pytest.raises(AssertionError):
            assert_valid("assets", "AssetSchema", broken)


def test_refs_are_resolved_through_the_registry():
    page = {"objects": [{"id": "2c5bfe1a-f149-11eb-a843-0a580a3db916", "title": 5}], "page": 1}
    with pytest.raises(AssertionError, match="objects/0/title"):
        assert_valid("assets", "AssetsSchema", page)


# ---- real samples --------------------------------------------------------------------------------------------
def _json_objects(text: str) -> list[dict]:
    """Every top-level JSON object in a text that may hold several, separated by prose ("File 1 Response")."""
    decoder, objects, position = json.JSONDecoder(), [], 0
    while (start := text.find("{", position)) != -1:
        obj, position = decoder.raw_decode(text, start)
        objects.append(obj)
    return objects


SAMPLES = [("asset_response.json", "assets", "AssetSchema"), ("file_response.json", "files", "FileSchema"),
           ("file_sets_response.json", "files", "FileSetSchema"), ("formats_response.json", "files", "FormatSchema")]


@pytest.mark.parametrize(("sample", "spec", "schema"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_real_samples_validate_against_the_same_schemas(sample, spec, schema):
    objects = _json_objects((SAMPLE_DIR / sample).read_text())
    assert objects
    for obj in objects:
        assert_valid(spec, schema, obj)


@pytest.fixture(scope="module")
def ids(api) -> dict:
    """Ids of objects that exist in the shared emulator, chosen to reach every endpoint."""
    truth = api.emu.truth
    lib = api.emu.state.lib
    asset_id = next(a for a in sorted(lib.assets) if lib.proxies.get(a) and lib.files.get(a)
                    and any((a, v["id"]) in lib.values for v in lib.views))
    view_id = next(v["id"] for v in lib.views if (asset_id, v["id"]) in lib.values)
    deep = max(truth.collection_ids(), key=lambda c: len(lib.collection_ancestors(c)))
    parent = next(c for c in truth.collection_ids() if any(c in (o["in_collections"] or [])
                                                             for o in lib.collections.values()))
    return {"asset": asset_id, "view": view_id, "deep": deep, "parent": parent,
            "proxy": lib.proxies[asset_id][0]["id"], "file": lib.files[asset_id][0]["id"],
            "file_set": lib.file_sets[asset_id][0]["id"], "format": lib.formats[asset_id][0]["id"]}


@pytest.mark.parametrize(("sample", "store"), [("asset_response.json", "assets"), ("file_response.json", "files"),
                                               ("file_sets_response.json", "file_sets"),
                                               ("formats_response.json", "formats")])
def test_emulator_objects_carry_every_field_of_the_real_samples(api, ids, sample, store):
    lib = api.emu.state.lib
    if store == "assets":
        ours = api.ok(f"/API/assets/v1/assets/{ids['asset']}/")
    else:
        ours = getattr(lib, store)[ids["asset"]][0]
    for real in _json_objects((SAMPLE_DIR / sample).read_text()):
        assert set(real) - set(ours) == set(), f"{sample}: fields missing from the emulator's {store}"


# ---- every implemented endpoint --------------------------------------------------------------------------------
A, F, M = "/API/assets/v1", "/API/files/v1", "/API/metadata/v1"
# (label, spec, path template in the spec, emulator path template, query)
ENDPOINTS = [
    ("users/current", "users", "/v1/users/current/", "/API/users/v1/users/current/", {}),
    ("assets/list", "assets", "/v1/assets/", f"{A}/assets/", {"per_page": 50}),
    ("assets/list page 2", "assets", "/v1/assets/", f"{A}/assets/", {"per_page": 50, "page": 2}),
    ("assets/get", "assets", "/v1/assets/{asset_id}/", f"{A}/assets/{{asset}}/", {}),
    ("assets/get collections", "assets", "/v1/assets/{asset_id}/", f"{A}/assets/{{asset}}/",
     {"include_collections": "true"}),
    ("collections/list", "assets", "/v1/collections/", f"{A}/collections/", {"per_page": 100}),
    ("collections/roots", "assets", "/v1/collections/", f"{A}/collections/", {"is_root": "true"}),
    ("collections/get", "assets", "/v1/collections/{collection_id}/", f"{A}/collections/{{deep}}/", {}),
    ("collections/contents", "assets", "/v1/collections/{collection_id}/contents/",
     f"{A}/collections/{{parent}}/contents/", {"per_page": 100}),
    ("collections/ancestors", "assets", "/v1/collections/{collection_id}/ancestors/",
     f"{A}/collections/{{deep}}/ancestors/", {"per_page": 100}),
    ("delete_queue/assets", "assets", "/v1/delete_queue/assets/", f"{A}/delete_queue/assets/", {}),
    ("delete_queue/collections", "assets", "/v1/delete_queue/collections/", f"{A}/delete_queue/collections/", {}),
    ("metadata/views", "metadata", "/v1/views/", f"{M}/views/", {}),
    ("metadata/view", "metadata", "/v1/views/{view_id}/", f"{M}/views/{{view}}/", {}),
    ("metadata/fields", "metadata", "/v1/fields/", f"{M}/fields/", {}),
    ("metadata/object_view", "metadata", "/v1/{object_type}/{object_id}/views/{view_id}/",
     f"{M}/assets/{{asset}}/views/{{view}}/", {}),
    ("metadata/object", "metadata", "/v1/{object_type}/{object_id}/", f"{M}/assets/{{asset}}/", {}),
    ("files/proxies", "files", "/v1/assets/{asset_id}/proxies/", f"{F}/assets/{{asset}}/proxies/", {}),
    ("files/proxy_download_url", "files", "/v1/assets/{asset_id}/proxies/{proxy_id}/download_url/",
     f"{F}/assets/{{asset}}/proxies/{{proxy}}/download_url/", {}),
    ("files/files", "files", "/v1/assets/{asset_id}/files/", f"{F}/assets/{{asset}}/files/", {}),
    ("files/files signed", "files", "/v1/assets/{asset_id}/files/", f"{F}/assets/{{asset}}/files/",
     {"generate_signed_url": "true"}),
    ("files/file_download_url", "files", "/v1/assets/{asset_id}/files/{file_id}/download_url/",
     f"{F}/assets/{{asset}}/files/{{file}}/download_url/", {}),
    ("files/formats", "files", "/v1/assets/{asset_id}/formats/", f"{F}/assets/{{asset}}/formats/", {}),
    ("files/format", "files", "/v1/assets/{asset_id}/formats/{format_id}/",
     f"{F}/assets/{{asset}}/formats/{{format}}/", {}),
    ("files/format ORIGINAL", "files", "/v1/assets/{asset_id}/formats/{format_id}/",
     f"{F}/assets/{{asset}}/formats/ORIGINAL/", {}),
    ("files/file_sets", "files", "/v1/assets/{asset_id}/file_sets/", f"{F}/assets/{{asset}}/file_sets/", {}),
    ("files/file_set_files", "files", "/v1/assets/{asset_id}/file_sets/{file_set_id}/files/",
     f"{F}/assets/{{asset}}/file_sets/{{file_set}}/files/", {}),
    ("files/keyframes", "files", "/v1/assets/{asset_id}/keyframes/", f"{F}/assets/{{asset}}/keyframes/", {}),
]


@pytest.mark.parametrize(("spec", "spec_path", "path", "query"), [e[1:] for e in ENDPOINTS],
                         ids=[e[0] for e in ENDPOINTS])
def test_endpoint_matches_its_openapi_response_schema(api, ids, spec, spec_path, path, query):
    body = api.ok(path.format(**ids), params=query)
    schema = response_schema(spec, spec_path)
    assert_valid(spec, schema, body)
    if "objects" in body and "delete_queue" not in path:
        assert body["objects"], f"{path}: an empty list proves little"


def test_list_items_also_match_the_single_object_schemas(api, ids):
    """Items of the files lists are the objects of the GET-one schemas (Proxy/File/FileSet/Format/Keyframe)."""
    for kind, schema in (("proxies", "ProxySchema"), ("files", "FileSchema"), ("file_sets", "FileSetSchema"),
                         ("formats", "FormatSchema"), ("keyframes", "KeyframeSchema")):
        body = api.ok(f"{F}/assets/{ids['asset']}/{kind}/", params={"generate_signed_url": "true"})
        for item in body["objects"]:
            assert_valid("files", schema, item)


def test_delete_queues_validate_with_deleted_objects(fresh_emu):
    api = Api(fresh_emu)
    lib = fresh_emu.state.lib
    asset_id = sorted(lib.assets)[0]
    fresh_emu.control.delete_asset(asset_id)
    # The control API cannot delete collections; mark one deleted in the library to exercise the shape.
    collection = lib.collections[fresh_emu.truth.collection_ids()[-1]]
    collection.update(status="DELETED", date_deleted=collection["date_modified"])
    assets = api.ok(f"{A}/delete_queue/assets/")
    assert [a["id"] for a in assets["objects"]] == [asset_id]
    assert assets["objects"][0]["status"] == "DELETED" and assets["objects"][0]["date_deleted"]
    assert_valid("assets", response_schema("assets", "/v1/delete_queue/assets/"), assets)
    collections = api.ok(f"{A}/delete_queue/collections/")
    assert [c["id"] for c in collections["objects"]] == [collection["id"]]
    assert_valid("assets", response_schema("assets", "/v1/delete_queue/collections/"), collections)


SEARCHES = {
    "assets": ({"doc_types": ["assets"], "query": ""}, {"per_page": 100}),
    "collections": ({"doc_types": ["collections"]}, {"per_page": 100}),
    "mixed with facets": ({"facets": ["media_type", "status"], "sort": [{"name": "title", "order": "asc"}]},
                          {"per_page": 50, "generate_signed_proxy_url": "true"}),
    "include_fields": ({"doc_types": ["assets"], "include_fields": ["id", "title", "date_modified"]}, {}),
}


@pytest.mark.parametrize("name", list(SEARCHES))
def test_search_matches_its_openapi_response_schema(api, name):
    body, params = SEARCHES[name]
    response = api.search(body, **params)
    assert response.status_code == 200, response.text[:300]
    page = response.json()
    assert page["objects"]
    assert_valid("search", response_schema("search", "/v1/search/", "post"), page)
    for doc in page["objects"]:
        if doc["object_type"] == "assets":
            assert_valid("assets", "AssetElasticSchema", doc)
        else:
            assert doc["object_type"] == "collections"
            assert_valid("assets", "CollectionElasticSchema", doc)


def test_webhooks_endpoints_match_their_schemas(fresh_emu):
    api = Api(fresh_emu)
    created = api.post("/API/notifications/v1/webhooks/", json={
        "url": "http://127.0.0.1:9/hook", "event_type": "assets", "realm": "entity", "headers": {"X-A": "b"}})
    assert created.status_code == 201, created.text
    assert_valid("notifications", response_schema("notifications", "/v1/webhooks/", "post"), created.json())
    listed = api.ok("/API/notifications/v1/webhooks/")
    assert_valid("notifications", response_schema("notifications", "/v1/webhooks/"), listed)
    assert [w["id"] for w in listed["objects"]] == [created.json()["id"]]


def test_schema_choice_is_not_vacuous():
    """The schemas used above have properties and enforce types (a `{}` schema would pass anything)."""
    for spec, schema in (("assets", "AssetElasticSchema"), ("files", "FileSchema"), ("metadata", "MetadataValuesSchema"),
                         ("search", "SearchDocumentsSchema"), ("users", "UserSchema")):
        raw = _load(spec)["components"]["schemas"][schema]
        assert raw.get("properties"), schema
        with pytest.raises(ValidationError):
            validator(spec, schema).validate([])
    assert copy.deepcopy(relax({"nullable": True, "type": "string"})) == {"type": ["string", "null"]}
