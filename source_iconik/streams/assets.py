"""`assets`: incremental on `date_modified` through the search API, a checkpoint after every page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin

from source_iconik.enrich import PROXY_PREFERENCES, AssetEnricher
from source_iconik.search import SearchPager, iso_z, scope_filter
from source_iconik.streams.base import SearchPagedStream, parse_time


class AssetSearchStream(SearchPagedStream, CheckpointMixin):
    """A stream read from asset search pages, one slice per page, state = the highest `date_modified` seen.

    The request filter uses the cursor captured when the read starts (minus the lookback window); the
    emitted state advances separately, page by page, so changes made during the read are never skipped.
    """

    cursor_field = "date_modified"
    state_key = "date_modified"

    def __init__(self, context):
        super().__init__(context)
        self._cursor: datetime | None = None  # the saved cursor at the start of the read
        self._cursor_text: str | None = None
        self._max_seen: datetime | None = None
        self._pager: SearchPager | None = None
        self._enricher: AssetEnricher | None = None
        self._iso_cache: tuple[datetime | None, str] = (None, "")

    @property
    def state(self) -> Mapping[str, Any]:
        candidates = [t for t in (self._cursor, self._max_seen) if t is not None]
        latest = max(candidates) if candidates else None
        if latest is not None and latest == self._cursor and self._cursor_text:
            return {self.state_key: self._cursor_text}  # nothing newer: hand the saved state back as it came
        return {self.state_key: self._iso(latest)} if latest else {}

    def _iso(self, moment: datetime) -> str:
        # The CDK reads `state` after every record; the cursor only moves once per page, so format it once.
        if self._iso_cache[0] != moment:
            self._iso_cache = (moment, iso_z(moment))
        return self._iso_cache[1]

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        cursor = parse_time((value or {}).get(self.state_key)) if isinstance(value, Mapping) else None
        if value and self.state_key in value and cursor is None:
            self.logger.warning(f"Ignoring an unreadable {self.name} cursor {value.get(self.state_key)!r}: "
                                "this read starts from start_date.")
        self._cursor = cursor
        self._cursor_text = value.get(self.state_key) if cursor is not None else None

    @property
    def enricher(self) -> AssetEnricher:
        if self._enricher is None:
            self._enricher = AssetEnricher(self.client, self.config, self.context.tree, self.context.view_fields)
        return self._enricher

    def search_params(self) -> dict:
        params = {"generate_signed_url": "true"}
        # From the config, not the enricher: building that reads the collection tree and the views, which a
        # read that finds nothing new never needs.
        if self.config.file_preference in PROXY_PREFERENCES:
            params["generate_signed_proxy_url"] = "true"
        return params

    def new_pager(self, sync_mode: SyncMode) -> SearchPager:
        since = self.lookback_start(self._cursor if sync_mode == SyncMode.incremental else None)
        self._max_seen = None
        return SearchPager(self.client, scope_filter(self.config, since), self.config.page_size,
                           params=self.search_params(), prefetch=True)

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None) -> Iterable:
        docs, progress = self.read_page()
        if docs is None:
            return
        if progress:
            yield progress
        yield from self.records_of(docs)
        for doc in docs:
            modified = parse_time(doc.get("date_modified"))
            if modified and (self._max_seen is None or modified > self._max_seen):
                self._max_seen = modified

    def records_of(self, docs: list[dict]) -> Iterable[dict]:
        """Records in page order; documents that need per-asset calls are enriched on a bounded pool."""
        if not docs:
            return
        enricher = self.enricher
        if self.config.concurrency > 1 and any(enricher.lacks(d) for d in docs):
            with ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="iconik-asset") as pool:
                results = list(pool.map(self.build, docs))
        else:
            results = [self.build(doc) for doc in docs]
        for record in results:
            if record is not None:
                yield record

    def build(self, doc: dict) -> dict | None:
        return self.enricher.record(doc)


class Assets(AssetSearchStream):
    name = "assets"
