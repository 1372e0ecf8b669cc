"""Builders for the Airbyte messages a source sends to destination-bucket (plain dicts, as on the wire)."""

from __future__ import annotations

import json

EMITTED_AT = 1_700_000_000_000


def record(stream: str, data: dict) -> dict:
    return {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": EMITTED_AT}}


def state(stream: str, stream_state: dict, **extra) -> dict:
    return {"type": "STATE", "state": {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state},
        "sourceStats": {"recordCount": 1.0}, **extra,
    }}


def status(stream: str, value: str = "COMPLETE") -> dict:
    return {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": EMITTED_AT, "stream_status": {
        "stream_descriptor": {"name": stream}, "status": value}}}


def asset(asset_id: str, modified: str = "2026-01-01T00:00:00Z", url: str | None = None, **fields) -> dict:
    return {"id": asset_id, "title": f"Asset {asset_id}", "date_modified": modified, "file_url": url,
            "file_name": f"{asset_id}.mp4" if url else None, **fields}


def tombstone(asset_id: str, deleted: str = "2026-02-01T00:00:00Z") -> dict:
    return {"id": asset_id, "date_deleted": deleted, "_ab_cdc_deleted_at": deleted}


def proof(emitted: int, total: int | None = None, complete: bool = True, seen: int | None = None) -> dict:
    """The source's completeness proof: by default it saw and emitted everything iconik counted."""
    total = emitted if total is None else total
    seen = emitted if seen is None else seen
    return {"inventory": {"complete": complete, "seen": seen, "total": total, "emitted": emitted, "scope": "all"}}


MODES = {
    "assets": "append_dedup", "collections": "overwrite", "proxies": "append_dedup",
    "deleted_assets": "append_dedup", "asset_inventory": "append", "events": "append",
}


def catalog(*streams: str, modes: dict | None = None) -> dict:
    modes = {**MODES, **(modes or {})}
    return {"streams": [{
        "stream": {"name": name, "json_schema": {"type": "object"}, "supported_sync_modes": ["full_refresh"],
                   "source_defined_primary_key": [["id"]]},
        "sync_mode": "full_refresh", "destination_sync_mode": modes[name], "primary_key": [["id"]],
    } for name in streams]}


def streams_in(messages: list[dict]) -> list[str]:
    """The streams the messages speak of, in order: the catalog a real source would have been given."""
    names = []
    for m in messages:
        name = (m.get("record", {}).get("stream")
                or m.get("state", {}).get("stream", {}).get("stream_descriptor", {}).get("name")
                or m.get("trace", {}).get("stream_status", {}).get("stream_descriptor", {}).get("name"))
        if name and name not in names:
            names.append(name)
    return names


def full_stream(stream: str, rows: list[dict], final_state: dict | None = None, complete: bool = True) -> list:
    """A stream as the CDK sends it: records, one state, then its status."""
    out = [record(stream, row) for row in rows]
    out.append(state(stream, final_state if final_state is not None else {}))
    if complete:
        out.append(status(stream, "COMPLETE"))
    return out


def dump(messages: list[dict]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)
