"""What every iconik stream has: a name, the `id` primary key, its JSON schema file, the shared context."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from airbyte_cdk.models import (
    AirbyteEstimateTraceMessage,
    AirbyteMessage,
    AirbyteTraceMessage,
    EstimateType,
    SyncMode,
    TraceType,
    Type,
)
from airbyte_cdk.sources.streams import Stream

from source_iconik.context import SyncContext
from source_iconik.search import SearchPager


@cache
def load_schema(name: str) -> dict:
    return json.loads(resources.files("source_iconik").joinpath("schemas", f"{name}.json").read_text())


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def estimate(stream: str, rows: int) -> AirbyteMessage:
    return AirbyteMessage(type=Type.TRACE, trace=AirbyteTraceMessage(
        type=TraceType.ESTIMATE, emitted_at=datetime.now(UTC).timestamp() * 1000,
        estimate=AirbyteEstimateTraceMessage(name=stream, type=EstimateType.STREAM, row_estimate=rows)))


class IconikStream(Stream):
    primary_key = "id"

    def __init__(self, context: SyncContext):
        self.context = context
        self.config = context.config
        self.client = context.client

    def get_json_schema(self) -> dict[str, Any]:
        return load_schema(self.name)

    def lookback_start(self, cursor: datetime | None) -> datetime | None:
        """Where an incremental read starts: the saved cursor minus the lookback window, not before start_date."""
        start = self.config.start_date
        if cursor is not None:
            since = cursor - timedelta(seconds=self.config.lookback_window_seconds)
            start = max(start, since) if start else since
        return start


class SearchPagedStream(IconikStream):
    """A stream read from asset search pages, one slice per page (each page is then checkpointed)."""

    _pager: SearchPager | None = None

    def new_pager(self, sync_mode: SyncMode) -> SearchPager:
        raise NotImplementedError

    def stream_slices(self, sync_mode, cursor_field=None, stream_state=None) -> Iterable[Mapping]:
        self._pager = self.new_pager(sync_mode)
        page = 0
        while not self._pager.done:
            page += 1
            yield {"page": page}

    def read_page(self) -> tuple[list[dict] | None, AirbyteMessage | None]:
        """The next page's documents (None when there are no more), with a row estimate on the first page."""
        pager = self._pager
        docs = pager.next_page() if pager else None
        first = docs is not None and pager.pages == 1 and pager.total is not None
        return docs, (estimate(self.name, pager.total) if first else None)
