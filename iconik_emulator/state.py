"""The emulator's live state: the library, what search sees (with index lag), counters and changes."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections import Counter, deque
from datetime import UTC, datetime, timedelta

from iconik_emulator import webhooks
from iconik_emulator.library import Library, LibraryConfig, add_generated_asset, generate, iso
from iconik_emulator.limits import FaultPlan, Faults, LeakyBucket, Limits

DEFAULT_APP_ID = "5f0c4b8e-6a1d-11ef-9c2a-0242ac120002"
DEFAULT_AUTH_TOKEN = "emulator-token-0123456789abcdef"
NON_ADMIN_AUTH_TOKEN = "emulator-browse-only-token-0123"


class EmulatorState:
    def __init__(self, config: LibraryConfig, limits: Limits | None = None, faults: Faults | None = None,
                 index_lag_seconds: float = 0.0, url_ttl_seconds: float = 3600.0, embed_proxies: bool = True):
        self.config = config
        self.lib: Library = generate(config)
        self.limits = limits or Limits()
        self.bucket = LeakyBucket(self.limits)
        self.fault_plan = FaultPlan(faults or Faults())
        self.index_lag_seconds = index_lag_seconds
        self.url_ttl_seconds = url_ttl_seconds
        self.embed_proxies = embed_proxies
        # Search documents carry flattened metadata unless switched off (tests of the per-view fallback).
        self.embed_metadata = True
        self.credentials = {DEFAULT_APP_ID: {DEFAULT_AUTH_TOKEN: True, NON_ADMIN_AUTH_TOKEN: False}}
        self.lock = threading.RLock()
        self.counters: Counter = Counter()
        self.status_counters: Counter = Counter()
        self.webhook = webhooks.WebhookSender()
        self._secret = hashlib.sha256(f"media-{config.seed}".encode()).digest()
        self._added = 0
        # What search sees: id -> asset snapshot; changes wait in `_pending` until the index "refreshes".
        self.search_assets: dict[str, dict] = {a: self.search_doc(a) for a in self.lib.assets}
        self._pending: deque[tuple[float, str, dict | None]] = deque()
        self.index_version = 0
        self.sorted_cache: dict[tuple, list] = {}

    # ---- auth and counting --------------------------------------------------------------------------
    def is_admin(self, app_id: str, token: str) -> bool | None:
        """None when the pair is unknown (401); else whether the token's user is an admin."""
        tokens = self.credentials.get(app_id)
        if tokens is None or token not in tokens:
            return None
        return tokens[token] and self.config.admin

    def count(self, endpoint: str, status: int) -> None:
        with self.lock:
            self.counters[endpoint] += 1
            self.status_counters[str(status)] += 1

    def counter_report(self) -> dict:
        with self.lock:
            return {"total": sum(self.counters.values()), "by_endpoint": dict(self.counters),
                    "status": dict(self.status_counters)}

    def reset_counters(self) -> None:
        with self.lock:
            self.counters.clear()
            self.status_counters.clear()

    # ---- search index --------------------------------------------------------------------------------
    def refresh_index(self) -> None:
        now = time.monotonic()
        with self.lock:
            changed = False
            while self._pending and self._pending[0][0] <= now:
                _, asset_id, snapshot = self._pending.popleft()
                if snapshot is None:
                    self.search_assets.pop(asset_id, None)
                else:
                    self.search_assets[asset_id] = snapshot
                changed = True
            if changed:
                self.index_version += 1
                self.sorted_cache.clear()

    def search_doc(self, asset_id: str) -> dict | None:
        """The asset as the search index holds it: flattened metadata and ancestor collections included."""
        asset = self.lib.assets.get(asset_id)
        if asset is None:
            return None
        doc = copy.deepcopy(asset)
        doc["object_type"] = "assets"
        doc["ancestor_collections"] = self.lib.asset_ancestors(asset_id)
        doc["metadata"] = self.lib.flattened_metadata(asset_id)
        doc["files"] = [{"id": f["id"], "name": f["name"], "original_name": f["original_name"], "size": f["size"]}
                        for f in self.lib.files.get(asset_id, [])]
        return doc

    def _reindex(self, asset_id: str) -> None:
        snapshot = self.search_doc(asset_id)
        if self.index_lag_seconds <= 0:
            if snapshot is None:
                self.search_assets.pop(asset_id, None)
            else:
                self.search_assets[asset_id] = snapshot
            self.index_version += 1
            self.sorted_cache.clear()
        else:
            self._pending.append((time.monotonic() + self.index_lag_seconds, asset_id, snapshot))

    # ---- signed media URLs --------------------------------------------------------------------------
    def sign(self, base_url: str, asset_id: str, kind: str, object_id: str, size: int, filename: str) -> str:
        payload = json.dumps({"a": asset_id, "k": kind, "o": object_id, "s": size, "f": filename,
                              "e": int(time.time() + self.url_ttl_seconds)}, separators=(",", ":")).encode()
        token = urlsafe_b64encode(payload).decode().rstrip("=")
        signature = hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{base_url.rstrip('/')}/_media/{token}/{filename}?sig={signature}"

    def verify(self, token: str, signature: str) -> dict | None:
        expected = hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(expected, signature or ""):
            return None
        return json.loads(urlsafe_b64decode(token + "=" * (-len(token) % 4)))

    # ---- changes (the control API) ------------------------------------------------------------------
    def _touch(self, asset: dict) -> None:
        now = datetime.now(UTC)
        previous = datetime.fromisoformat(asset["date_modified"])
        asset["date_modified"] = iso(max(now, previous + timedelta(microseconds=1)))

    def _event(self, asset: dict | None, asset_id: str, operation: str) -> None:
        self.webhook.send(self.lib.user, asset_id, operation, copy.deepcopy(asset) if asset else {"id": asset_id})

    def asset_or_error(self, asset_id: str) -> dict:
        asset = self.lib.assets.get(asset_id)
        if asset is None:
            raise KeyError(f"Asset {asset_id} does not exist")
        return asset

    def modify_asset(self, asset_id: str, **fields) -> dict:
        with self.lock:
            asset = self.asset_or_error(asset_id)
            unknown = set(fields) - set(asset)
            if unknown:
                raise KeyError(f"Unknown asset fields: {sorted(unknown)}")
            asset.update(fields)
            self._touch(asset)
            self._reindex(asset_id)
        self._event(asset, asset_id, "update")
        return copy.deepcopy(asset)

    def set_metadata(self, asset_id: str, view_id: str, values: dict[str, list]) -> dict:
        with self.lock:
            asset = self.asset_or_error(asset_id)
            if view_id not in {v["id"] for v in self.lib.views}:
                raise KeyError(f"View {view_id} does not exist")
            items = {name: [v if isinstance(v, dict) else {"value": v} for v in vals] for name, vals in values.items()}
            if items:
                self.lib.values[(asset_id, view_id)] = items
            else:
                self.lib.values.pop((asset_id, view_id), None)
            self._touch(asset)
            self._reindex(asset_id)
        self._event(asset, asset_id, "update")
        return copy.deepcopy(asset)

    def add_asset(self, title: str, collection_ids: list[str] | None = None, media_type: str = "video") -> str:
        with self.lock:
            for collection_id in collection_ids or []:
                if collection_id not in self.lib.collections:
                    raise KeyError(f"Collection {collection_id} does not exist")
            self._added += 1
            asset = add_generated_asset(self.lib, 100_000 + self._added, title=title,
                                        collection_ids=list(collection_ids or []), media_type=media_type,
                                        created=datetime.now(UTC) - timedelta(seconds=1))
            asset["date_modified"] = asset["date_created"]
            self._touch(asset)
            self._reindex(asset["id"])
        self._event(asset, asset["id"], "create")
        return asset["id"]

    def move_asset(self, asset_id: str, from_collection_id: str, to_collection_id: str) -> dict:
        with self.lock:
            asset = self.asset_or_error(asset_id)
            if to_collection_id not in self.lib.collections:
                raise KeyError(f"Collection {to_collection_id} does not exist")
            collections = [c for c in asset["in_collections"] if c != from_collection_id]
            if to_collection_id not in collections:
                collections.append(to_collection_id)
            asset["in_collections"] = collections
            self._touch(asset)
            self._reindex(asset_id)
        self._event(asset, asset_id, "update")
        return copy.deepcopy(asset)

    def delete_asset(self, asset_id: str) -> dict:
        with self.lock:
            asset = self.asset_or_error(asset_id)
            now = iso(datetime.now(UTC))
            asset.update(status="DELETED", date_deleted=now, deleted_by_user=self.lib.user["id"])
            self._touch(asset)
            self._reindex(asset_id)
        self._event(asset, asset_id, "delete")
        return copy.deepcopy(asset)

    def restore_asset(self, asset_id: str) -> dict:
        with self.lock:
            asset = self.asset_or_error(asset_id)
            asset.update(status="ACTIVE", date_deleted=None, deleted_by_user=None)
            self._touch(asset)
            self._reindex(asset_id)
        self._event(asset, asset_id, "restore")
        return copy.deepcopy(asset)

    def purge_asset(self, asset_id: str) -> None:
        with self.lock:
            self.asset_or_error(asset_id)
            self.lib.assets.pop(asset_id)
            for store in (self.lib.proxies, self.lib.formats, self.lib.file_sets, self.lib.files, self.lib.keyframes):
                store.pop(asset_id, None)
            for key in [k for k in self.lib.values if k[0] == asset_id]:
                del self.lib.values[key]
            self._reindex(asset_id)
        self._event(None, asset_id, "purge")
