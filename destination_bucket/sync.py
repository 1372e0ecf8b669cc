"""One `write` run: Airbyte messages in, bucket objects and echoed STATE messages out.

Messages stay plain dicts end to end, so fields this code does not know (the platform's state `id`, new
protocol fields) are passed back untouched. Rules:

* A record becomes an object through a bounded thread pool (downloads run in parallel); two records of the
  same key never overlap. A STATE is echoed only after every record before it is durable, with
  `destinationStats.recordCount` (records of that stream since its previous state).
* Every delete waits for the end of the input and happens only when every configured stream reported
  COMPLETE: tombstones (`deleted_assets`, or any record with `_ab_cdc_deleted_at`), the `asset_inventory`
  sweep, `overwrite`'s removal of objects not written in this sync, and the purge of trash past its grace
  period. The states of the two delete streams are held until then; after a failed sync they are not
  echoed, so the next sync reads those tombstones again. A failed sync deletes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from destination_bucket.config import BucketConfig
from destination_bucket.objects import ObjectWriter, object_key, record_key
from destination_bucket.reconcile import InventoryProof, Reconciler
from destination_bucket.store import Store, bucket_lock, key_part

INVENTORY_STREAM = "asset_inventory"
# Tombstone streams and the stream whose objects their records delete.
TOMBSTONE_TARGETS = {"deleted_assets": "assets"}
SWEPT_STREAM = "assets"
SUMMARY_KEY = "_meta/last_sync.json"
# Temp files older than this are left by a killed writer (a live download refreshes its file constantly).
STALE_TMP_SECONDS = 6 * 3600

logger = logging.getLogger("airbyte")


def _content_hash(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:16]


class WrittenSince:
    """`key in WrittenSince(...)`: was the stream's object for `key` written at or after `since`?

    Read from object.json on demand, for the few objects a sweep would remove."""

    def __init__(self, store: Store, stream: str, since: datetime):
        self.store, self.stream, self.since = store, stream, since

    def __contains__(self, key: str) -> bool:
        document = self.store.read_json(f"{object_key(self.stream, key)}/object.json") or {}
        try:
            return datetime.fromisoformat(document.get("written_at") or "") >= self.since
        except ValueError:
            return False


class SyncWriter:
    def __init__(self, config: BucketConfig, catalog: dict, store: Store | None = None,
                 now: datetime | None = None):
        self.config = config
        self.store = store or Store(config.bucket_url, config.storage_options)
        self.objects = ObjectWriter(self.store, config)
        self.reconciler = Reconciler(self.store, config.delete_grace_period_hours, config.max_delete_fraction, now)
        self.streams = {s["stream"]["name"]: s for s in catalog.get("streams", [])}
        self.pool = ThreadPoolExecutor(max_workers=config.download_concurrency, thread_name_prefix="object")
        self.pending: OrderedDict[tuple[str, str], Future] = OrderedDict()
        self.max_pending = 4 * config.download_concurrency
        self.outcomes: Counter = Counter()
        self.since_state: Counter = Counter()
        # Keys written in this sync, kept only for overwrite streams (their stale objects are the others);
        # the sweep asks object.json's written_at instead, so memory does not grow with the assets stream.
        self.written: dict[str, set[str]] = defaultdict(set)
        self.received: Counter = Counter()
        self.started_at = datetime.now(UTC)
        self.trashed: dict[str, set[str]] = {}
        self.tombstones: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
        self.inventory: set[str] = set()
        self.inventory_received = 0
        self.held_states: dict[str, list[dict]] = defaultdict(list)
        self.status: dict[str, str] = {}
        self.unknown_streams: set[str] = set()

    # ---- message loop ----------------------------------------------------------------------------------
    def run(self, messages: Iterable[dict]) -> Iterator[dict]:
        removed = self.store.clear_stale_tmp(STALE_TMP_SECONDS)
        if removed:
            logger.info(f"Removed {removed} temporary file(s) left by an interrupted earlier write.")
        try:
            for message in messages:
                kind = message.get("type")
                if kind == "RECORD":
                    self.on_record(message["record"])
                elif kind == "STATE":
                    yield from self.on_state(message)
                elif kind == "TRACE":
                    yield from self.on_trace(message["trace"])
            self.flush()
            yield from self.finish()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def on_record(self, record: dict) -> None:
        stream, data = record["stream"], record.get("data") or {}
        configured = self.streams.get(stream)
        if configured is None:
            if stream not in self.unknown_streams:
                logger.warning(f"Records of stream '{stream}' are not in the configured catalog: ignored.")
                self.unknown_streams.add(stream)
            return
        self.since_state[stream] += 1
        if stream == INVENTORY_STREAM:
            self.inventory.add(key_part(data.get("id")))
            self.inventory_received += 1
            return
        if stream in TOMBSTONE_TARGETS or data.get("_ab_cdc_deleted_at"):
            target = TOMBSTONE_TARGETS.get(stream, stream)
            key = key_part(data.get("id")) if stream in TOMBSTONE_TARGETS else self._key(stream, configured, data)
            self.tombstones[stream].append((target, key, data.get("_ab_cdc_deleted_at") or data.get("date_deleted")))
            return
        key = self._key(stream, configured, data)
        self.received[stream] += 1
        if configured.get("destination_sync_mode") == "overwrite":
            self.written[stream].add(key)
        self._submit(stream, key, data, record.get("emitted_at"))

    def _key(self, stream: str, configured: dict, data: dict) -> str:
        primary_key = configured.get("primary_key") or configured["stream"].get("source_defined_primary_key")
        key = record_key(data, primary_key)
        if configured.get("destination_sync_mode") == "append" and primary_key:
            key = f"{key}__{_content_hash(data)}"  # append keeps every distinct version
        return key

    def _submit(self, stream: str, key: str, data: dict, emitted_at: int | None) -> None:
        earlier = self.pending.pop((stream, key), None)
        if earlier is not None:
            self._settle(earlier)  # the same key never overlaps
        while len(self.pending) >= self.max_pending:
            self._settle(self.pending.popitem(last=False)[1])
        self.pending[(stream, key)] = self.pool.submit(self._write_one, stream, key, data, emitted_at)

    def _write_one(self, stream: str, key: str, data: dict, emitted_at: int | None) -> str:
        if key in self._trashed(stream):
            with bucket_lock(self.store):
                if self.reconciler.revive(stream, key):
                    self._trashed(stream).discard(key)
        return self.objects.write(stream, key, data, emitted_at)

    def _settle(self, future: Future) -> None:
        self.outcomes[future.result()] += 1  # a bucket error fails the sync here, before any later state

    def flush(self) -> None:
        while self.pending:
            self._settle(self.pending.popitem(last=False)[1])

    def _trashed(self, stream: str) -> set[str]:
        if stream not in self.trashed:
            self.trashed[stream] = set(self.reconciler.trashed_keys(stream))
        return self.trashed[stream]

    # ---- state -----------------------------------------------------------------------------------------
    @staticmethod
    def _state_stream(message: dict) -> str | None:
        state = message.get("state") or {}
        if state.get("type") == "STREAM":
            return ((state.get("stream") or {}).get("stream_descriptor") or {}).get("name")
        return None

    def on_state(self, message: dict) -> Iterator[dict]:
        stream = self._state_stream(message)
        state = message.setdefault("state", {})
        if stream is None:
            state["destinationStats"] = {"recordCount": float(sum(self.since_state.values()))}
            self.since_state.clear()
        else:
            state["destinationStats"] = {"recordCount": float(self.since_state.pop(stream, 0))}
        if stream == INVENTORY_STREAM or stream in TOMBSTONE_TARGETS:
            self.held_states[stream].append(message)
            return
        self.flush()
        yield message

    # ---- stream status ---------------------------------------------------------------------------------
    def on_trace(self, trace: dict) -> Iterator[dict]:
        if trace.get("type") != "STREAM_STATUS":
            return
        status = trace.get("stream_status") or {}
        stream = (status.get("stream_descriptor") or {}).get("name")
        value = status.get("status")
        if stream not in self.streams or value not in ("COMPLETE", "INCOMPLETE"):
            return
        self.status[stream] = value
        self.flush()
        if value == "INCOMPLETE":
            logger.warning(f"Stream '{stream}' ended INCOMPLETE: this sync deletes nothing.")
        yield from ()

    # ---- end of input: deletes, only after a sync in which every stream completed -----------------------
    def finish(self) -> Iterator[dict]:
        unfinished = sorted(s for s in self.streams if self.status.get(s) != "COMPLETE")
        if unfinished:
            held = sum(len(v) for v in self.held_states.values())
            logger.warning(
                f"Nothing deleted (tombstones, inventory sweep, overwrite, purge): stream(s) "
                f"{', '.join(unfinished)} did not report COMPLETE"
                + (f"; {held} state(s) of the delete streams are not echoed, so the next sync reads them again."
                   if held else ".")
            )
            self.held_states.clear()
        else:
            with bucket_lock(self.store):  # deletes never interleave with the webhook receiver's
                self.apply_deletes()
        summary = {
            "finished_at": datetime.now(UTC).isoformat(),
            "records": dict(self.received),
            "written": self.outcomes["written"], "unchanged": self.outcomes["unchanged"],
            "download_failed": self.outcomes["failed"], **self.reconciler.counts,
            "inventory": self.inventory_received, "incomplete_streams": unfinished,
        }
        self.store.put_json(SUMMARY_KEY, summary)
        logger.info("Sync summary: " + ", ".join(f"{k} {v}" for k, v in summary.items()
                                                  if isinstance(v, int)))
        for stream in list(self.held_states):
            yield from self.held_states.pop(stream)

    def apply_deletes(self) -> None:
        for tombstones in self.tombstones.values():
            for target, key, deleted_at in tombstones:
                if self.reconciler.apply_tombstone(target, key, deleted_at):
                    self._trashed(target).add(key)
        self.tombstones.clear()
        if INVENTORY_STREAM in self.streams:
            held = self.held_states.get(INVENTORY_STREAM) or []
            last = (held[-1]["state"].get("stream") or {}).get("stream_state") if held else None
            self.reconciler.sweep(SWEPT_STREAM, self.inventory, WrittenSince(self.store, SWEPT_STREAM, self.started_at),
                                  InventoryProof.from_state(last), self.inventory_received)
        for stream, configured in self.streams.items():
            if configured.get("destination_sync_mode") != "overwrite":
                continue
            kept = self.written.get(stream, set())
            stale = [k for k in self.reconciler.live_keys(stream) if k not in kept]
            for key in stale:
                self.store.remove(object_key(stream, key))
            if stale:
                logger.info(f"Overwrite of '{stream}': removed {len(stale)} objects not in this sync.")
        self.reconciler.purge_expired()
