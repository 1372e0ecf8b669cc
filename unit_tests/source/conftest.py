"""Shared fixtures for the source's unit tests: a valid config, fast clients, fresh rate budgets."""

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from source_iconik import client as client_module
from source_iconik.client import IconikClient
from source_iconik.config import parse_config
from unit_tests.source.helpers import APP_ID, BASE, FAST, TOKEN


@pytest.fixture(autouse=True)
def fresh_budgets():
    """The rate budget is process-wide per token: give every test its own so windows never fill up."""
    client_module._BUDGETS.clear()
    yield
    client_module._BUDGETS.clear()


@pytest.fixture
def raw_config():
    return {"app_id": APP_ID, "auth_token": TOKEN, "base_url": BASE, "concurrency": 1}


@pytest.fixture
def make_client(raw_config):
    def make(**overrides):
        options = {**FAST, **overrides.pop("client_options", {})}
        return IconikClient(parse_config({**raw_config, **overrides}), **options)

    return make


# ---- a small in-memory iconik behind requests_mock ----------------------------------------------------------


SEARCH = "/API/search/v1/search/"


class FakeIconik:
    """Answers exactly the calls the source makes, from plain lists and dicts the test fills in."""

    def __init__(self, mocker):
        self.mocker = mocker
        self.collections: list[dict] = []
        self.views: list[dict] = []
        self.docs: list[dict] = []  # search documents (assets)
        self.view_values: dict[tuple[str, str], dict] = {}  # (asset id, view id) -> MetadataValuesSchema
        self.assets: dict[str, dict] = {}  # GET /assets/{id}/ bodies
        self.proxies: dict[str, list[dict]] = {}
        self.keyframes: dict[str, list[dict]] = {}
        self.files: dict[str, list[dict]] = {}
        self.delete_queue: list[dict] = []
        self.delete_queue_page = 1000
        self.total_override: int | None = None
        self.search_clamp: int | None = None  # a server-side per_page cap, reported in the envelope
        self.search_bodies: list[dict] = []
        self.search_params: list[dict] = []
        m = mocker
        m.get(f"{BASE}/API/users/v1/users/current/", json={"id": "user-1", "email": "bot@example.com"})
        m.get(f"{BASE}/API/assets/v1/collections/", json=lambda r, c: self._page(self.collections))
        m.get(f"{BASE}/API/metadata/v1/views/", json=lambda r, c: {"objects": self.views})
        m.get(re.compile(r".*/API/metadata/v1/views/[^/]+/(\?|$)"), json=self._view)
        m.get(re.compile(r".*/API/metadata/v1/assets/[^/]+/views/[^/]+/(\?|$)"), json=self._view_values)
        m.get(re.compile(r".*/API/assets/v1/assets/[^/]+/(\?|$)"), json=self._asset)
        m.get(re.compile(r".*/API/files/v1/assets/[^/]+/proxies/(\?|$)"),
              json=lambda r, c: self._per_asset(r, c, self.proxies))
        m.get(re.compile(r".*/API/files/v1/assets/[^/]+/keyframes/(\?|$)"),
              json=lambda r, c: self._per_asset(r, c, self.keyframes))
        m.get(re.compile(r".*/API/files/v1/assets/[^/]+/files/(\?|$)"),
              json=lambda r, c: self._per_asset(r, c, self.files))
        m.get(re.compile(r".*/API/assets/v1/delete_queue/assets/.*"), json=self._delete_queue)
        m.post(f"{BASE}{SEARCH}", json=self._search)

    # ---- plumbing ----------------------------------------------------------------------------------------
    @staticmethod
    def _page(objects, next_url=None):
        return {"objects": objects, "page": 1, "pages": 1, "per_page": len(objects), "total": len(objects),
                "next_url": next_url}

    @staticmethod
    def _id_in(request, marker):
        parts = urlparse(request.url).path.strip("/").split("/")
        return parts[parts.index(marker, parts.index("v1")) + 1]  # after the version: /API/assets/v1/assets/<id>

    def _view(self, request, context):
        view_id = self._id_in(request, "views")
        for view in self.views:
            if view["id"] == view_id:
                return view
        context.status_code = 404
        return {"errors": ["View does not exist"]}

    def _view_values(self, request, context):
        asset_id, view_id = self._id_in(request, "assets"), self._id_in(request, "views")
        if (asset_id, view_id) not in self.view_values:
            context.status_code = 404
            return {"errors": ["Metadata values for this object and view doesn't exist"]}
        return self.view_values[(asset_id, view_id)]

    def _asset(self, request, context):
        asset_id = self._id_in(request, "assets")
        if asset_id not in self.assets:
            context.status_code = 404
            return {"errors": ["Asset does not exist"]}
        return self.assets[asset_id]

    def _per_asset(self, request, context, table):
        return self._page(table.get(self._id_in(request, "assets"), []))

    def _delete_queue(self, request, context):
        query = parse_qs(urlparse(request.url).query)
        page = int(query.get("page", ["1"])[0])
        size = self.delete_queue_page
        chunk = self.delete_queue[(page - 1) * size: page * size]
        more = page * size < len(self.delete_queue)
        return self._page(chunk, f"/API/assets/v1/delete_queue/assets/?page={page + 1}" if more else None)

    def _search(self, request, context):
        body = json.loads(request.body)
        query = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        self.search_bodies.append(body)
        self.search_params.append(query)
        docs = [d for d in self.docs if _matches(d, body.get("filter") or {})]
        docs.sort(key=lambda d: (d.get("date_modified") or "", d["id"]))
        after = body.get("search_after")
        if after is not None:
            docs = [d for d in docs if [d.get("date_modified") or "", d["id"]] > list(after)]
        per_page = int(query.get("per_page", "10"))
        if self.search_clamp is not None:
            per_page = min(per_page, self.search_clamp)
        chosen = docs[:per_page]
        include = body.get("include_fields")
        out = []
        for doc in chosen:
            shown = {k: v for k, v in doc.items() if include is None or k in include}
            shown["_sort"] = [doc.get("date_modified") or "", doc["id"]]
            out.append(shown)
        total = self.total_override if self.total_override is not None else sum(
            1 for d in self.docs if _matches(d, body.get("filter") or {}))
        return {"objects": out, "page": 1, "pages": 1, "per_page": per_page, "total": total, "next_url": None}


def _matches(doc: dict, criteria: dict) -> bool:
    results = [_term(doc, term) for term in criteria.get("terms") or []]
    results += [_matches(doc, sub) for sub in criteria.get("filters") or []]
    if not results:
        return True
    return all(results) if criteria.get("operator", "AND") == "AND" else any(results)


def _term(doc: dict, term: dict) -> bool:
    value = doc.get(term["name"])
    if "value_in" in term:
        values = value if isinstance(value, list) else [value]
        return any(v in term["value_in"] for v in values)
    if "range" in term:
        low = term["range"].get("min")
        return value is not None and (low is None or value.replace("+00:00", "Z") >= low)
    return True


@pytest.fixture
def iconik(requests_mock):
    return FakeIconik(requests_mock)
