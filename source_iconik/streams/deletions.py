"""The two reconciliation streams: `deleted_assets` (tombstones) and `asset_inventory` (completeness proof)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from airbyte_cdk.sources.streams import CheckpointMixin
from airbyte_cdk.sources.streams.checkpoint import CheckpointMode

from source_iconik.enrich import AssetEnricher
from source_iconik.search import SearchPager, iso_z, scope_filter
from source_iconik.streams.base import IconikStream, SearchPagedStream, parse_time

DELETE_QUEUE_PATH = "/API/assets/v1/delete_queue/assets/"


class DeletedAssets(IconikStream, CheckpointMixin):
    """Tombstones for assets in iconik's recycle bin, incremental on `date_deleted`.

    The delete queue has no date filter, so every read lists the bin (1 call per 1000 deleted assets) and
    emits those deleted at or after the saved cursor minus the lookback window.
    """

    name = "deleted_assets"
    cursor_field = "date_deleted"

    def __init__(self, context):
        super().__init__(context)
        self._cursor: datetime | None = None
        self._cursor_text: str | None = None
        self._max_seen: datetime | None = None

    @property
    def state(self) -> Mapping[str, Any]:
        candidates = [t for t in (self._cursor, self._max_seen) if t is not None]
        if candidates and max(candidates) == self._cursor and self._cursor_text:
            return {"date_deleted": self._cursor_text}  # nothing newer: the saved state, as it came
        return {"date_deleted": iso_z(max(candidates))} if candidates else {}

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        self._cursor = parse_time((value or {}).get("date_deleted")) if isinstance(value, Mapping) else None
        self._cursor_text = value.get("date_deleted") if self._cursor is not None else None

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None) -> Iterable[dict]:
        since = self.lookback_start(self._cursor)
        now = datetime.now(UTC)
        for asset in self.client.paginate(DELETE_QUEUE_PATH, {"per_page": 1000, "sort": "date_deleted,asc"}):
            deleted = parse_time(asset.get("date_deleted"))
            if since is not None and deleted is not None and deleted < since:
                continue
            if deleted and (self._max_seen is None or deleted > self._max_seen):
                self._max_seen = deleted
            yield {
                "id": asset["id"], "title": asset.get("title"), "status": asset.get("status"),
                "date_deleted": asset.get("date_deleted"), "deleted_by_user": asset.get("deleted_by_user"),
                "date_modified": asset.get("date_modified"),
                "_ab_cdc_deleted_at": asset.get("date_deleted") or iso_z(now),
            }


class AssetInventory(SearchPagedStream, CheckpointMixin):
    """Every live asset id in scope, read cheaply (ids only, pages of 1000, `search_after`).

    Its final state is the completeness proof destinations check before sweeping:
    `{"inventory": {"complete", "seen", "total", "emitted", "scope"}}`. `complete` is true only when the
    read reached the last page and saw exactly as many documents as iconik's `total`.
    """

    name = "asset_inventory"
    PAGE_SIZE = 1000

    def __init__(self, context):
        super().__init__(context)
        self._proof: dict = {}
        self._pager: SearchPager | None = None
        self._emitted = 0

    @property
    def _checkpoint_mode(self) -> CheckpointMode:
        # A full-refresh stream whose state (the proof) is emitted after every page and at the end.
        return CheckpointMode.INCREMENTAL

    @property
    def state(self) -> Mapping[str, Any]:
        return {"inventory": self._proof} if self._proof else {}

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        self._proof = {}  # every read proves itself from scratch

    def _update_proof(self) -> None:
        pager = self._pager
        complete = bool(pager and pager.done and pager.total is not None and pager.seen == pager.total)
        self._proof = {"complete": complete, "seen": pager.seen if pager else 0,
                       "total": pager.total if pager else None, "emitted": self._emitted,
                       "scope": self.config.scope_key}

    def new_pager(self, sync_mode) -> SearchPager:
        self._emitted = 0
        return SearchPager(self.client, scope_filter(self.config), self.PAGE_SIZE,
                           include_fields=["id", "date_modified", "in_collections"], prefetch=True)

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None) -> Iterable:
        docs, progress = self.read_page()
        if docs is None:
            return
        if progress:
            yield progress
        # Only path patterns need the collection tree here (ids come from the search documents).
        enricher = AssetEnricher(self.client, self.config, self.context.tree, {}) if self.config.path_patterns else None
        for doc in docs:
            if enricher is not None and enricher.matcher and enricher.scoped_paths(doc) is None:
                continue
            self._emitted += 1
            yield {"id": doc["id"], "date_modified": doc.get("date_modified")}
        self._update_proof()
