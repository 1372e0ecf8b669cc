"""Paging through `POST /API/search/v1/search/` with `search_after`, never with deep page numbers.

Sorted by the given fields plus `id` as the tiebreaker, each next page starts after the `_sort` of the
last document of the previous one, so iconik's 10,000-result window never applies and documents that
change during the read move behind the cursor instead of shifting pages.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from source_iconik.client import IconikClient
from source_iconik.config import IconikConfig

SEARCH_PATH = "/API/search/v1/search/"


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def scope_filter(config: IconikConfig, modified_since: datetime | None = None) -> dict:
    """The server-side part of the scope: statuses, media types, collections, the date range."""
    terms: list[dict] = [{"name": "status", "value_in": list(config.status)}]
    if config.media_types:
        terms.append({"name": "media_type", "value_in": list(config.media_types)})
    if modified_since is not None:
        terms.append({"name": "date_modified", "range": {"min": iso_z(modified_since)}})
    criteria: dict = {"operator": "AND", "terms": terms}
    if config.collection_ids:
        # iconik documents ancestor_collections as "all ancestor collection ids"; whether it also holds the
        # direct collections is not documented, so match either.
        ids = list(config.collection_ids)
        criteria["filters"] = [{"operator": "OR", "terms": [
            {"name": "ancestor_collections", "value_in": ids}, {"name": "in_collections", "value_in": ids}]}]
    return criteria


class SearchPager:
    def __init__(self, client: IconikClient, criteria: dict, page_size: int, sort_field: str = "date_modified",
                 params: dict | None = None, include_fields: list[str] | None = None,
                 doc_types: tuple[str, ...] = ("assets",), prefetch: bool = False):
        self.client = client
        # prefetch: ask for page n+1 (its search_after is known) while the caller works on page n, so the
        # round trip and iconik's time to build the page overlap the caller's work. Same requests, same order.
        self.prefetch = prefetch
        self._ahead: Future | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.body: dict = {
            "doc_types": list(doc_types), "query": "", "filter": criteria,
            "sort": [{"name": sort_field, "order": "asc"}, {"name": "id", "order": "asc"}],
        }
        if include_fields:
            self.body["include_fields"] = include_fields
        self.params = {"per_page": page_size, "page": 1, "generate_signed_url": "false",
                       "save_search_history": "false", **(params or {})}
        self.page_size = page_size
        self.done = False
        self.total: int | None = None
        self.seen = 0
        self.pages = 0
        self._after: list | None = None

    def next_page(self) -> list[dict] | None:
        """The next page of documents, or None once the results are exhausted."""
        if self.done:
            return None
        if self._ahead is not None:
            ahead, self._ahead = self._ahead, None
            response = ahead.result()
        else:
            response = self._fetch(self._after)
        objects = response.get("objects") or []
        self.pages += 1
        if self.total is None:
            self.total = response.get("total")
        self.seen += len(objects)
        if objects and objects[-1].get("_sort") is not None:
            self._after = objects[-1]["_sort"]
        # A short page ends the read only if it is short of the page size iconik says it served (it may cap
        # per_page below what was asked) and nothing the total promises is still unseen.
        served = response.get("per_page")
        size = served if isinstance(served, int) and 0 < served < self.page_size else self.page_size
        short = len(objects) < size and (self.total is None or self.seen >= self.total)
        if short or not objects or objects[-1].get("_sort") is None:
            self.done = True
            self.close()
        elif self.prefetch:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="iconik-search")
            self._ahead = self._executor.submit(self._fetch, self._after)
        return objects

    def _fetch(self, after: list | None) -> dict:
        body = dict(self.body)
        if after is not None:
            body["search_after"] = after
        return self.client.post(SEARCH_PATH, self.params, body)

    def close(self) -> None:
        """Drop a page fetched ahead (if any) and the fetching thread."""
        if self._ahead is not None:
            self._ahead.cancel()
            self._ahead = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
