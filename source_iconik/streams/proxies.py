"""`proxies`: every proxy of every asset in scope, signed URL included, incremental with the assets cursor."""

from __future__ import annotations

from collections.abc import Iterable

from source_iconik.streams.assets import AssetSearchStream

PROXY_FIELDS = (
    "id", "asset_id", "version_id", "name", "filename", "format", "codec", "bit_rate", "audio_bitrate", "frame_rate",
    "resolution", "rotation", "size", "status", "storage_method", "is_public", "url", "date_created", "date_modified",
)


class Proxies(AssetSearchStream):
    name = "proxies"
    cursor_field = "asset_date_modified"

    def search_params(self) -> dict:
        return {"generate_signed_proxy_url": "true"}

    def records_of(self, docs: list[dict]) -> Iterable[dict]:
        for batch in super().records_of(docs):
            yield from batch

    def build(self, doc: dict) -> list[dict] | None:
        enricher = self.enricher
        if enricher.scoped_paths(doc) is None:
            return None
        records = []
        for proxy in enricher.proxies(doc):
            record = {name: proxy.get(name) for name in PROXY_FIELDS}
            record["asset_id"] = record["asset_id"] or doc["id"]
            record["asset_date_modified"] = doc.get("date_modified")
            records.append(record)
        return records
