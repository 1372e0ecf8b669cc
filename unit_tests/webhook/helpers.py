"""Builders for webhook tests: a local bucket the destination wrote, signed iconik events, a test client."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from starlette.testclient import TestClient

from destination_bucket.config import parse_config
from destination_bucket.sync import SyncWriter
from destination_bucket.webhook import SIGNATURE_HEADER, WEBHOOK_PATH, create_app, sign
from unit_tests.destination.messages import asset, catalog, full_stream

SECRET = "whsec-0123456789-abcdef"
SHARED_HEADER = "X-Webhook-Secret"
SYSTEM_DOMAIN = "562b6dc8-9c3e-11e9-93c5-0a580a3d829b"

# A small collection tree: Root > Projects > Final, Root > Archive.
ROOT, PROJECTS, FINAL, ARCHIVE = "c-root", "c-projects", "c-final", "c-archive"
COLLECTIONS = [
    {"id": ROOT, "title": "Root", "in_collections": [], "directory_paths": ["Root"]},
    {"id": PROJECTS, "title": "Projects", "in_collections": [ROOT], "directory_paths": ["Root/Projects"]},
    {"id": FINAL, "title": "Final", "in_collections": [PROJECTS], "directory_paths": ["Root/Projects/Final"]},
    {"id": ARCHIVE, "title": "Archive", "in_collections": [ROOT], "directory_paths": ["Root/Archive"]},
]


def config(bucket: Path, **extra) -> dict:
    return {"bucket_url": str(bucket), "webhook_secret": SECRET, "webhook_secret_header": SHARED_HEADER, **extra}


def stored_asset(asset_id: str, collection: str = FINAL, **fields) -> dict:
    paths = next(c["directory_paths"] for c in COLLECTIONS if c["id"] == collection)
    return asset(asset_id, status="ACTIVE", media_type="video", in_collections=[collection],
                 ancestor_collections=[], directory_paths=paths, **fields)


def proxy(proxy_id: str, asset_id: str) -> dict:
    return {"id": proxy_id, "asset_id": asset_id, "date_modified": "2026-01-01T00:00:00Z", "url": None}


def sync_messages(assets: list[dict], proxies: list[dict] | None = None, collections: bool = True) -> list:
    messages = full_stream("assets", assets)
    if proxies:
        messages += full_stream("proxies", proxies)
    if collections:
        messages += full_stream("collections", COLLECTIONS)
    return messages


def write_bucket(bucket: Path, assets: list[dict], proxies: list[dict] | None = None) -> None:
    """A first sync of these records, through the destination's own writer."""
    writer = SyncWriter(parse_config({"bucket_url": str(bucket)}), catalog("assets", "proxies", "collections"))
    list(writer.run(iter(sync_messages(assets, proxies))))


def event(asset_id: str, operation: str, data: dict | None = None, event_type: str = "assets",
          realm: str = "entity") -> dict:
    return {"system_domain_id": SYSTEM_DOMAIN, "object_id": asset_id, "user_id": "u-1", "realm": realm,
            "operation": operation, "event_type": event_type, "request_id": secrets.token_hex(16),
            "data": data if data is not None else {"id": asset_id}}


def body_of(payload) -> bytes:
    return json.dumps(payload).encode()


def signed_headers(body: bytes, secret: str = SECRET) -> dict:
    return {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}


def client(bucket: Path, **extra) -> TestClient:
    return TestClient(create_app(parse_config(config(bucket, **extra))))


def post(test_client: TestClient, payload, headers: dict | None = None):
    body = body_of(payload)
    return test_client.post(WEBHOOK_PATH, content=body, headers=headers or signed_headers(body))


def live(bucket: Path, stream: str = "assets") -> set[str]:
    folder = bucket / "objects" / stream
    return {p.name for p in folder.iterdir() if (p / "object.json").exists()} if folder.exists() else set()


def trashed(bucket: Path, stream: str = "assets") -> set[str]:
    folder = bucket / "_trash" / stream
    return {p.name for p in folder.iterdir() if (p / "object.json").exists()} if folder.exists() else set()
