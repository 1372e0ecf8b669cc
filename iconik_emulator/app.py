"""The HTTP surface: iconik's API paths, signed media, and the /_emulator/ control API."""

from __future__ import annotations

import asyncio
import copy
import json
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from iconik_emulator import media, search
from iconik_emulator.paging import ApiError, cursor, int_param, numbered
from iconik_emulator.state import EmulatorState

JSON_HEADERS = {"content-type": "application/json"}


class _ResetResponse(Response):
    """Starts a response, then drops the connection: what a client sees as a connection reset."""

    async def __call__(self, scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"objects": [', "more_body": True})
        raise ConnectionResetError("emulated connection reset")


def _json(status: int, body, remaining: int | None = None, extra_headers: dict | None = None) -> Response:
    headers = dict(extra_headers or {})
    if remaining is not None:
        headers["RateLimit-Remaining"] = str(remaining)
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, headers=headers,
                    media_type="application/json")


def _credentials(request: Request) -> tuple[str, str]:
    # Starlette's headers are case-insensitive, as iconik's are.
    return request.headers.get("app-id", ""), request.headers.get("auth-token", "")


def api(endpoint: str):
    """Wraps an iconik handler with latency, auth, faults, the rate limit, counting and error bodies."""

    def wrap(handler):
        async def route(request: Request) -> Response:
            state: EmulatorState = request.app.state.emulator
            if state.limits.latency_ms:
                await asyncio.sleep(state.limits.latency_ms / 1000)
            app_id, token = _credentials(request)
            admin = state.is_admin(app_id, token)
            if admin is None:
                state.count(endpoint, 401)
                return _json(401, {"errors": ["Token is invalid"]})
            allowed, remaining, wait = state.bucket.take((app_id, token))
            fault = state.fault_plan.draw()
            if not allowed or fault == "429":
                state.count(endpoint, 429)
                headers = {"Retry-After": str(wait or 1)} if state.limits.retry_after else {}
                return _json(429, {"errors": ["Too many requests, slow down"]}, 0, headers)
            if fault and fault.startswith("error:"):
                code = int(fault.split(":")[1])
                state.count(endpoint, code)
                return _json(code, {"errors": ["Internal server error"]}, remaining)
            if fault == "slow":
                await asyncio.sleep(state.fault_plan.faults.slow_ms / 1000)
            if fault == "reset":
                state.count(endpoint, 599)
                return _ResetResponse()
            try:
                state.refresh_index()
                status, body = await handler(request, state, admin)
            except ApiError as exc:
                state.count(endpoint, exc.status)
                return _json(exc.status, {"errors": exc.errors}, remaining)
            state.count(endpoint, status)
            if status == 204:
                return Response(status_code=204, headers={"RateLimit-Remaining": str(remaining)})
            if fault == "truncate":
                text = json.dumps(body)
                return Response(text[: max(1, len(text) // 2)], status_code=status, media_type="application/json",
                                headers={"RateLimit-Remaining": str(remaining)})
            return _json(status, body, remaining)

        return route

    return wrap


def _bool(params, name: str, default: bool) -> bool:
    raw = params.get(name)
    return default if raw is None else raw.lower() in ("true", "1", "yes")


def _asset(state: EmulatorState, asset_id: str) -> dict:
    asset = state.lib.assets.get(asset_id)
    if asset is None:
        raise ApiError(404, "Asset does not exist")
    return asset


def _public_asset(asset: dict, include_collections: bool) -> dict:
    out = copy.copy(asset)
    if not include_collections:
        out.pop("in_collections", None)
    return out


# ---- users and auth -------------------------------------------------------------------------------------
@api("users/current")
async def current_user(request, state, admin):
    user = {**state.lib.user, "is_admin": admin}
    return 200, user


@api("auth/token")
async def token_check(request, state, admin):
    return 200, {}


# ---- assets ---------------------------------------------------------------------------------------------
@api("assets/list")
async def list_assets(request, state, admin):
    items = sorted(state.lib.assets.values(), key=lambda a: (a["date_created"], a["id"]))
    page = numbered(items, "/API/assets/v1/assets/", request.query_params)
    page["objects"] = [_public_asset(a, False) for a in page["objects"]]
    return 200, page


@api("assets/get")
async def get_asset(request, state, admin):
    asset = _asset(state, request.path_params["asset_id"])
    return 200, _public_asset(asset, _bool(request.query_params, "include_collections", False))


@api("delete_queue/assets")
async def delete_queue_assets(request, state, admin):
    items = sorted((a for a in state.lib.assets.values() if a["status"] == "DELETED"),
                   key=lambda a: (a["date_deleted"] or "", a["id"]))
    page = numbered(items, "/API/assets/v1/delete_queue/assets/", request.query_params)
    page["objects"] = [_public_asset(a, False) for a in page["objects"]]
    return 200, page


@api("delete_queue/collections")
async def delete_queue_collections(request, state, admin):
    items = [c for c in state.lib.collections.values() if c["status"] == "DELETED"]
    return 200, numbered(items, "/API/assets/v1/delete_queue/collections/", request.query_params)


# ---- collections ----------------------------------------------------------------------------------------
def _collection(state: EmulatorState, collection_id: str) -> dict:
    collection = state.lib.collections.get(collection_id)
    if collection is None:
        raise ApiError(404, "Collection does not exist")
    return collection


@api("collections/list")
async def list_collections(request, state, admin):
    params = request.query_params
    items = sorted(state.lib.collections.values(), key=lambda c: (c["date_created"], c["id"]))
    if params.get("is_root") is not None:
        wanted = params["is_root"].lower() == "true"
        items = [c for c in items if c["is_root"] == wanted]
    if params.get("status"):
        items = [c for c in items if c["status"] == params["status"]]
    extra = {k: params[k] for k in ("is_root", "status") if params.get(k) is not None}
    return 200, numbered(items, "/API/assets/v1/collections/", params, extra)


@api("collections/get")
async def get_collection(request, state, admin):
    return 200, _collection(state, request.path_params["collection_id"])


@api("collections/contents")
async def collection_contents(request, state, admin):
    collection_id = request.path_params["collection_id"]
    _collection(state, collection_id)
    params = request.query_params
    types = {t.strip() for t in (params.get("object_types") or "assets,collections").split(",") if t.strip()}
    items: list[dict] = []
    if "collections" in types:
        items += sorted((c for c in state.lib.collections.values() if collection_id in (c["in_collections"] or [])),
                        key=lambda c: (c["title"], c["id"]))
    if "assets" in types:
        items += [{**_public_asset(a, True), "object_type": "assets"} for a in sorted(
            (a for a in state.lib.assets.values() if collection_id in a["in_collections"] and a["status"] == "ACTIVE"),
            key=lambda a: (a["title"], a["id"]))]
    extra = {"object_types": params["object_types"]} if params.get("object_types") else {}
    return 200, numbered(items, f"/API/assets/v1/collections/{collection_id}/contents/", params, extra)


@api("collections/ancestors")
async def collection_ancestors(request, state, admin):
    collection_id = request.path_params["collection_id"]
    _collection(state, collection_id)
    # Root first, following the first parent, as the UI's breadcrumb does.
    chain, seen = [], {collection_id}
    parent = state.lib.collections[collection_id]["parent_id"]
    while parent and parent not in seen and parent in state.lib.collections:
        seen.add(parent)
        chain.insert(0, state.lib.collections[parent])
        parent = state.lib.collections[parent]["parent_id"]
    return 200, numbered(chain, f"/API/assets/v1/collections/{collection_id}/ancestors/", request.query_params)


# ---- metadata -------------------------------------------------------------------------------------------
def _view_summary(state: EmulatorState, view: dict, full: bool) -> dict:
    fields = []
    for name in view["field_names"]:
        if name == "__separator__":
            fields.append({"name": name, "label": None, "options": None, "read_only": True, "required": False,
                           "auto_set": False, "hide_if_not_set": False, "mapped_field_name": None, "source_url": None}
                          | ({"field_type": None} if full else {}))  # MetadataFieldSchema requires field_type
            continue
        field = state.lib.fields[name]
        if full:
            fields.append(dict(field))
        else:
            fields.append({k: field[k] for k in ("name", "label", "options", "read_only", "required", "auto_set",
                                                 "hide_if_not_set", "mapped_field_name", "source_url")})
    return {k: view[k] for k in ("id", "name", "description", "date_created", "date_modified")} | {
        "view_fields": fields}


@api("metadata/views")
async def list_views(request, state, admin):
    return 200, {"objects": [_view_summary(state, v, False) for v in state.lib.views]}


def _view(state: EmulatorState, view_id: str) -> dict:
    for view in state.lib.views:
        if view["id"] == view_id:
            return view
    raise ApiError(404, "Metadata view does not exist")


@api("metadata/view")
async def get_view(request, state, admin):
    return 200, _view_summary(state, _view(state, request.path_params["view_id"]), True)


@api("metadata/fields")
async def list_fields(request, state, admin):
    items = list(state.lib.fields.values())
    return 200, cursor(items, "/API/metadata/v1/fields/", request.query_params, key="name",
                       cursor_param="last_field_name", default_per_page=500)


def _values_body(state: EmulatorState, asset: dict, values: dict) -> dict:
    return {"object_id": asset["id"], "object_type": "assets", "version_id": asset["versions"][0]["id"],
            "job_id": None, "date_created": asset["date_created"], "date_modified": asset["date_modified"],
            "metadata_values": {name: {"field_values": items, "date_created": None}
                                for name, items in values.items()}}


@api("metadata/object_view")
async def object_view_values(request, state, admin):
    if request.path_params["object_type"] != "assets":
        raise ApiError(404, "Metadata values for this object and view doesn't exist")
    asset = _asset(state, request.path_params["object_id"])
    _view(state, request.path_params["view_id"])
    values = state.lib.values.get((asset["id"], request.path_params["view_id"]))
    if not values:
        raise ApiError(404, "Metadata values for this object and view doesn't exist")
    return 200, _values_body(state, asset, values)


@api("metadata/object")
async def object_all_values(request, state, admin):
    if not admin:
        raise ApiError(403, "This endpoint is available only for admins")
    if request.path_params["object_type"] != "assets":
        raise ApiError(404, "Object does not exist")
    asset = _asset(state, request.path_params["object_id"])
    merged: dict = {}
    for view in state.lib.views:
        merged.update(state.lib.values.get((asset["id"], view["id"]), {}))
    return 200, _values_body(state, asset, merged)


# ---- files ----------------------------------------------------------------------------------------------
def _signed(state: EmulatorState, request: Request, item: dict, kind: str, filename_key: str) -> dict:
    out = dict(item)
    out["url"] = state.sign(str(request.base_url), item["asset_id"], kind, item["id"], item["size"] or 0,
                            item[filename_key])
    return out


def _files_list(kind: str, store_name: str, signed_default: bool, filename_key: str = "filename"):
    async def handler(request, state, admin):
        asset = _asset(state, request.path_params["asset_id"])
        items = getattr(state.lib, store_name).get(asset["id"], [])
        page = cursor(items, f"/API/files/v1/assets/{asset['id']}/{kind}/", request.query_params)
        if _bool(request.query_params, "generate_signed_url", signed_default):
            page["objects"] = [_signed(state, request, item, kind, filename_key) for item in page["objects"]]
        return 200, page
    return handler


list_proxies = api("files/proxies")(_files_list("proxies", "proxies", True))
list_files = api("files/files")(_files_list("files", "files", False, "name"))
list_keyframes = api("files/keyframes")(_files_list("keyframes", "keyframes", True))


@api("files/formats")
async def list_formats(request, state, admin):
    asset = _asset(state, request.path_params["asset_id"])
    return 200, cursor(state.lib.formats.get(asset["id"], []), f"/API/files/v1/assets/{asset['id']}/formats/",
                       request.query_params)


@api("files/format")
async def get_format(request, state, admin):
    asset = _asset(state, request.path_params["asset_id"])
    wanted = request.path_params["format_id"]
    for fmt in state.lib.formats.get(asset["id"], []):
        if wanted in (fmt["id"], fmt["name"]):
            return 200, fmt
    raise ApiError(404, "Format does not exist")


@api("files/file_sets")
async def list_file_sets(request, state, admin):
    asset = _asset(state, request.path_params["asset_id"])
    return 200, cursor(state.lib.file_sets.get(asset["id"], []), f"/API/files/v1/assets/{asset['id']}/file_sets/",
                       request.query_params)


@api("files/file_set_files")
async def file_set_files(request, state, admin):
    asset = _asset(state, request.path_params["asset_id"])
    file_set_id = request.path_params["file_set_id"]
    items = [f for f in state.lib.files.get(asset["id"], []) if f["file_set_id"] == file_set_id]
    page = cursor(items, f"/API/files/v1/assets/{asset['id']}/file_sets/{file_set_id}/files/", request.query_params)
    if _bool(request.query_params, "generate_signed_url", True):
        page["objects"] = [_signed(state, request, f, "files", "name") for f in page["objects"]]
    return 200, page


def _download_url(kind: str, store_name: str, filename_key: str, id_param: str):
    async def handler(request, state, admin):
        asset = _asset(state, request.path_params["asset_id"])
        for item in getattr(state.lib, store_name).get(asset["id"], []):
            if item["id"] == request.path_params[id_param]:
                return 200, {"url": _signed(state, request, item, kind, filename_key)["url"]}
        raise ApiError(404, f"{kind[:-1].capitalize()} does not exist")
    return handler


proxy_download_url = api("files/proxy_download_url")(_download_url("proxies", "proxies", "filename", "proxy_id"))
file_download_url = api("files/file_download_url")(_download_url("files", "files", "name", "file_id"))


# ---- search ---------------------------------------------------------------------------------------------
def _search_docs(state: EmulatorState, doc_types: list[str]) -> list[dict]:
    docs: list[dict] = []
    if "assets" in doc_types:
        docs.extend(state.search_assets.values())
    if "collections" in doc_types:
        docs.extend(state.lib.collections.values())
    return docs


@api("search")
async def search_route(request, state, admin):
    params = request.query_params
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Invalid JSON body") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "Search criteria must be an object")
    per_page = int_param(params, "per_page", 10, 0, 1000)
    page = int_param(params, "page", 1, 1, 10_000)
    if page * per_page > search.MAX_WINDOW:
        raise ApiError(400, f"Result window is too large, page * per_page must be less than or equal to "
                            f"{search.MAX_WINDOW}. Use search_after for deep paging.")
    doc_types = body.get("doc_types") or ["assets", "collections"]
    spec = search.sort_spec(body)
    cache_key = (state.index_version, json.dumps([doc_types, body.get("filter"), spec], sort_keys=True))
    keyed = state.sorted_cache.get(cache_key)
    try:
        if keyed is None:
            matched = [d for d in _search_docs(state, doc_types) if search.filter_matches(d, body.get("filter"))]
            keyed = search.sort_docs(matched, spec)
            if len(state.sorted_cache) > 64:
                state.sorted_cache.clear()
            state.sorted_cache[cache_key] = keyed
        start = (page - 1) * per_page
        if body.get("search_after"):
            start = search.after(keyed, body["search_after"], spec) + (page - 1) * per_page
    except search.SearchError as exc:
        raise ApiError(400, str(exc)) from exc
    total = len(keyed)
    pages = -(-total // per_page) if per_page else 0
    if not body.get("search_after") and page > max(pages, 1):
        raise ApiError(404, "Requested page does not exist")  # as the numbered lists (SPEC-search 404)
    chunk = keyed[start:start + per_page]
    include, exclude = body.get("include_fields"), body.get("exclude_fields")
    view_id = body.get("metadata_view_id")
    view_fields = set(_view(state, view_id)["field_names"]) if view_id else None
    with_proxies = _bool(params, "generate_signed_proxy_url", False) and state.embed_proxies
    with_keyframes = _bool(params, "generate_signed_url", True)
    objects = []
    for sort_values, doc in chunk:
        out = dict(doc)
        if not state.embed_metadata:
            out.pop("metadata", None)
        if view_fields is not None and isinstance(out.get("metadata"), dict):
            out["metadata"] = {k: v for k, v in out["metadata"].items() if k in view_fields}
        if out.get("object_type") == "assets" and with_keyframes:
            out["keyframes"] = [_signed(state, request, k, "keyframes", "filename")
                                for k in state.lib.keyframes.get(doc["id"], [])]
        if out.get("object_type") == "assets" and with_proxies:
            out["proxies"] = [_signed(state, request, p, "proxies", "filename")
                              for p in state.lib.proxies.get(doc["id"], [])]
        out = search.project(out, include, exclude)
        out["_sort"] = sort_values
        out["_highlight"] = None
        objects.append(out)
    envelope = {
        "objects": objects, "page": page, "pages": pages, "per_page": per_page, "total": total,
        "first_url": None, "last_url": None, "prev_url": None, "scroll_id": None,
        "next_url": f"/API/search/v1/search/?per_page={per_page}&page={page + 1}" if page < pages else None,
        "facets": search.facets([d for _, d in keyed], body.get("facets") or []),
    }
    return 200, envelope


# ---- webhooks (registration) ----------------------------------------------------------------------------
@api("notifications/webhooks")
async def webhooks_route(request, state, admin):
    if request.method == "GET":
        return 200, {"objects": state.webhook.targets}
    body = await request.json()
    if not isinstance(body, dict) or not body.get("url") or not body.get("event_type"):
        raise ApiError(400, {"url": "Required", "event_type": "Required"})
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())
    webhook = {"id": state.lib.new_id(), "name": body.get("name"), "description": body.get("description"),
               "url": body["url"], "event_type": body["event_type"], "realm": body.get("realm"),
               "operation": body.get("operation"), "object_id": body.get("object_id"), "query": body.get("query"),
               "headers": body.get("headers") or {}, "status": body.get("status") or "ENABLED",
               "first_failed_at": None, "last_error": None, "last_payload": None, "deleted_at": None,
               "date_created": now, "date_modified": now}
    state.webhook.add_target(webhook)
    return 201, webhook


def routes() -> list[Route]:
    a, f, m = "/API/assets/v1", "/API/files/v1", "/API/metadata/v1"
    return [
        Route("/API/users/v1/users/current/", current_user),
        Route("/API/auth/v1/auth/token/", token_check),
        Route(f"{a}/assets/", list_assets),
        Route(f"{a}/assets/{{asset_id}}/", get_asset),
        Route(f"{a}/delete_queue/assets/", delete_queue_assets),
        Route(f"{a}/delete_queue/collections/", delete_queue_collections),
        Route(f"{a}/collections/", list_collections),
        Route(f"{a}/collections/{{collection_id}}/", get_collection),
        Route(f"{a}/collections/{{collection_id}}/contents/", collection_contents),
        Route(f"{a}/collections/{{collection_id}}/ancestors/", collection_ancestors),
        Route(f"{m}/views/", list_views),
        Route(f"{m}/views/{{view_id}}/", get_view),
        Route(f"{m}/fields/", list_fields),
        Route(f"{m}/{{object_type}}/{{object_id}}/views/{{view_id}}/", object_view_values),
        Route(f"{m}/{{object_type}}/{{object_id}}/", object_all_values),
        Route(f"{f}/assets/{{asset_id}}/proxies/", list_proxies),
        Route(f"{f}/assets/{{asset_id}}/proxies/{{proxy_id}}/download_url/", proxy_download_url),
        Route(f"{f}/assets/{{asset_id}}/files/", list_files),
        Route(f"{f}/assets/{{asset_id}}/files/{{file_id}}/download_url/", file_download_url),
        Route(f"{f}/assets/{{asset_id}}/formats/", list_formats),
        Route(f"{f}/assets/{{asset_id}}/formats/{{format_id}}/", get_format),
        Route(f"{f}/assets/{{asset_id}}/file_sets/", list_file_sets),
        Route(f"{f}/assets/{{asset_id}}/file_sets/{{file_set_id}}/files/", file_set_files),
        Route(f"{f}/assets/{{asset_id}}/keyframes/", list_keyframes),
        Route("/API/search/v1/search/", search_route, methods=["POST"]),
        Route("/API/notifications/v1/webhooks/", webhooks_route, methods=["GET", "POST"]),
        Route("/_media/{token}/{filename:path}", media.serve),
    ]


def create_app(state: EmulatorState) -> Starlette:
    from iconik_emulator.control import control_routes

    async def not_found(request, exc):
        return JSONResponse({"errors": ["Not found"]}, status_code=404)

    app = Starlette(routes=routes() + control_routes(), exception_handlers={404: not_found})
    app.state.emulator = state
    return app
