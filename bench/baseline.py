"""The baseline client: the reference product's documented pattern, sequential, with `requests`.

List assets with `GET /API/assets/v1/assets/` pages, then for every asset: one asset GET, one proxies GET and
one GET per metadata view. No search, no concurrency. It honours 429 + Retry-After so it never fails, and
counts what it did. Used by `python -m bench` (B1) on a subset of the library and extrapolated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import requests

LIST_PATH = "/API/assets/v1/assets/"
VIEWS_PATH = "/API/metadata/v1/views/"
PER_PAGE = 100


@dataclass
class BaselineResult:
    assets: int = 0
    calls: int = 0
    list_calls: int = 0
    list_seconds: float = 0.0
    asset_seconds: float = 0.0
    throttled: int = 0
    records: list[dict] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.list_seconds + self.asset_seconds


class BaselineClient:
    def __init__(self, base_url: str, app_id: str, auth_token: str):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"App-ID": app_id, "Auth-Token": auth_token, "Accept": "application/json"})
        self.result = BaselineResult()

    def get(self, path: str, params: dict | None = None) -> dict | None:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        while True:
            response = self.session.get(url, params=params, timeout=60)
            self.result.calls += 1
            if response.status_code == 429:
                self.result.throttled += 1
                time.sleep(float(response.headers.get("Retry-After") or 1))
                continue
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return response.json()

    def run(self, limit: int | None = None, keep_records: bool = False) -> BaselineResult:
        """Sync every asset (or the first `limit`): the list pages, then the per-asset calls."""
        views = (self.get(VIEWS_PATH) or {}).get("objects") or []
        started = time.perf_counter()
        assets: list[dict] = []
        page = self.get(LIST_PATH, {"per_page": PER_PAGE, "page": 1})
        self.result.list_calls += 1
        while page:
            assets.extend(page.get("objects") or [])
            if limit is not None and len(assets) >= limit or not page.get("next_url"):
                break
            page = self.get(page["next_url"])
            self.result.list_calls += 1
        self.result.list_seconds = time.perf_counter() - started
        if limit is not None:
            assets = assets[:limit]
        started = time.perf_counter()
        for summary in assets:
            asset_id = summary["id"]
            asset = self.get(f"/API/assets/v1/assets/{asset_id}/", {"include_collections": "true"}) or summary
            proxies = (self.get(f"/API/files/v1/assets/{asset_id}/proxies/") or {}).get("objects") or []
            metadata: dict = {}
            for view in views:
                body = self.get(f"/API/metadata/v1/assets/{asset_id}/views/{view['id']}/") or {}
                for name, entry in (body.get("metadata_values") or {}).items():
                    values = [v.get("value") for v in (entry or {}).get("field_values") or []]
                    if values:
                        metadata[name] = values
            record = {**asset, "metadata": metadata, "proxy_url": proxies[0].get("url") if proxies else None}
            if keep_records:
                self.result.records.append(record)
            self.result.assets += 1
        self.result.asset_seconds = time.perf_counter() - started
        return self.result
