"""Record -> bucket object: `objects/<stream>/<key>/object.json` plus the media file beside it.

The file is streamed from its URL into a temporary key (hashing as it goes, so memory stays flat
whatever its size) and moved into place only when complete; object.json is written last, the same way.
An object whose `date_modified` and file are unchanged is skipped without downloading.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import posixpath
import time
from datetime import UTC, datetime

import requests

from destination_bucket.config import BucketConfig
from destination_bucket.store import Store, bucket_lock, key_part

CHUNK = 1 << 20
DOWNLOAD_ATTEMPTS = 4
# URL fields change on every read (signed URLs): they never make an object "changed".
VOLATILE_FIELDS = frozenset({"file_url", "proxy_url", "original_url", "thumbnail_url", "url"})

logger = logging.getLogger("airbyte")


class DownloadError(Exception):
    pass


def object_key(stream: str, key: str) -> str:
    return f"objects/{key_part(stream)}/{key}"


def record_key(record: dict, primary_key: list[list[str]] | None) -> str:
    """The object's key segment from the primary key (composite keys joined with `__`)."""
    if not primary_key:
        digest = hashlib.sha256(repr(sorted(record.items())).encode()).hexdigest()
        return digest[:32]
    parts = []
    for path in primary_key:
        value = record
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        parts.append(key_part(value))
    return "__".join(parts)


def _stable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in VOLATILE_FIELDS}


class ObjectWriter:
    def __init__(self, store: Store, config: BucketConfig):
        self.store = store
        self.config = config
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(8, config.download_concurrency))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def file_name(self, record: dict, url: str) -> str:
        name = record.get("file_name") or posixpath.basename(url.split("?")[0]) or "file"
        name = key_part(name)
        return "file" if name in ("object.json", "_deleted.json") else name

    def unchanged(self, existing: dict | None, record: dict, url: str | None) -> bool:
        if not existing:
            return False
        old = existing.get("record") or {}
        if "date_modified" in record:
            same = old.get("date_modified") == record.get("date_modified")
        else:
            same = _stable(old) == _stable(record)
        if not same:
            return False
        if self.config.download_files and url:
            blobs = existing.get("blobs") or []
            wanted = (record.get("file_name"), record.get("file_size"))
            have = (existing.get("file_identity") or [None, None])
            return bool(blobs) and tuple(have) == wanted and all(self.store.exists(b["key"]) for b in blobs)
        return True

    def write(self, stream: str, key: str, record: dict, emitted_at: int | None = None) -> str:
        """Write one object; returns "written", "unchanged" or "failed" (file not downloaded)."""
        base = object_key(stream, key)
        existing = self.store.read_json(f"{base}/object.json")
        url = record.get(self.config.file_url_field) if self.config.download_files else None
        if self.unchanged(existing, record, url):
            return "unchanged"
        fetched, status, error = [], "written", None
        if url:
            try:
                fetched.append(self.download(url, base, self.file_name(record, url), record))
            except DownloadError as exc:
                status, error = "failed", str(exc)
                logger.warning(f"Could not download the file of {stream}/{key}: {exc}")
        document = {
            "stream": stream, "key": key, "record": record, "blobs": [blob for _, blob in fetched],
            "file_identity": [record.get("file_name"), record.get("file_size")],
            "emitted_at": emitted_at, "written_at": datetime.now(UTC).isoformat(),
        }
        if error:
            document["blob_error"] = error
        # Downloads ran unlocked into _tmp/; putting the object in place is one short locked step, so the
        # webhook receiver never sees (or moves) a half-placed object.
        with bucket_lock(self.store):
            for tmp, blob in fetched:
                self.store.move(tmp, blob["key"])
            self.store.put_json(f"{base}/object.json", document)
            # A file under another name from an earlier version is no longer referenced.
            kept = {blob["key"] for blob in document["blobs"]}
            for old in (existing or {}).get("blobs") or []:
                if old.get("key") not in kept and old.get("key", "").startswith(base + "/"):
                    self.store.remove(old["key"])
        return status

    def download(self, url: str, base: str, name: str, record: dict) -> tuple[str, dict]:
        """Stream the file into a temporary key; returns it with the blob entry of its final key."""
        last_error = "no attempt"
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            tmp = self.store.tmp_key(name)
            try:
                with self.session.get(url, stream=True, timeout=(10, 120)) as response:
                    if response.status_code in (401, 403, 404, 410):
                        raise DownloadError(f"the file URL answered {response.status_code} (expired or gone)")
                    if response.status_code >= 400:
                        raise requests.HTTPError(f"HTTP {response.status_code}")
                    digest, size = hashlib.sha256(), 0
                    with self.store.open_write(tmp) as handle:
                        for chunk in response.iter_content(CHUNK):
                            digest.update(chunk)
                            size += len(chunk)
                            handle.write(chunk)
                    expected = response.headers.get("Content-Length")
                    if expected is not None and int(expected) != size:
                        raise requests.HTTPError(f"short body: {size} of {expected} bytes")
                    content_type = (response.headers.get("Content-Type") or "").split(";")[0] or None
                if content_type in (None, "application/octet-stream"):
                    content_type = record.get("file_content_type") or mimetypes.guess_type(name)[0] or content_type
                return tmp, {"key": f"{base}/{name}", "size": size, "sha256": digest.hexdigest(),
                             "content_type": content_type}
            except DownloadError:
                self.store.remove(tmp)
                raise
            except (requests.RequestException, OSError) as exc:
                self.store.remove(tmp)
                last_error = f"{type(exc).__name__}: {exc}"
                time.sleep(min(4.0, 0.25 * 2 ** (attempt - 1)))
        raise DownloadError(f"gave up after {DOWNLOAD_ATTEMPTS} attempts ({last_error})")
