"""The bucket: one fsspec filesystem (a local folder by default, s3:// and others by URL) under a root.

Keys are `/`-separated and always relative to the root; `key_part` makes any primary key value safe to
use as one path segment, so no record can write outside the bucket prefix.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import threading
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import fsspec

TMP_PREFIX = "_tmp"


MAX_SEGMENT = 200  # bytes; file systems cap a name at 255 and S3 a whole key at 1024


def key_part(value) -> str:
    """One safe path segment for a key value: percent-encoded, never empty, `.` or `..`.

    A value too long for one segment keeps a readable prefix plus a hash of the whole value, so two long
    values never share a key.
    """
    text = quote(str(value), safe="-_.~")
    if text in ("", ".", ".."):
        text = text.replace(".", "%2E") or "%00"
    if len(text) > MAX_SEGMENT:
        digest = hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()[:32]
        head = text[:MAX_SEGMENT - 34]
        escape = head.rfind("%", len(head) - 2)  # never cut a %XX escape in two
        text = f"{head[:escape] if escape != -1 else head}~~{digest}"
    return text


class Store:
    def __init__(self, url: str, storage_options: dict | None = None):
        self.fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
        self.root = root.rstrip("/") or root
        self.is_local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        if self.is_local:
            self.fs.makedirs(self.root, exist_ok=True)

    def path(self, key: str) -> str:
        return posixpath.join(self.root, key) if key else self.root

    # ---- reading ---------------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.fs.exists(self.path(key))

    def read_json(self, key: str) -> dict | None:
        try:
            with self.fs.open(self.path(key), "rb") as handle:
                return json.loads(handle.read())
        except FileNotFoundError:
            return None

    def read_bytes(self, key: str) -> bytes:
        with self.fs.open(self.path(key), "rb") as handle:
            return handle.read()

    def children(self, key: str) -> list[str]:
        """Names directly under a key (empty when it does not exist)."""
        try:
            entries = self.fs.ls(self.path(key), detail=False)
        except FileNotFoundError:
            return []
        return sorted(posixpath.basename(e.rstrip("/")) for e in entries)

    # ---- writing ---------------------------------------------------------------------------------------
    def tmp_key(self, name: str = "") -> str:
        return f"{TMP_PREFIX}/{uuid.uuid4().hex}{'-' + key_part(name) if name else ''}"

    def open_write(self, key: str):
        if self.is_local:
            self.fs.makedirs(posixpath.dirname(self.path(key)), exist_ok=True)
        return self.fs.open(self.path(key), "wb")

    def clear_stale_tmp(self, max_age_seconds: float) -> int:
        """Remove temporary files last written more than `max_age_seconds` ago (left by a killed writer)."""
        try:
            entries = self.fs.ls(self.path(TMP_PREFIX), detail=True)
        except FileNotFoundError:
            return 0
        now, removed = datetime.now(UTC), 0
        for entry in entries:
            written = entry.get("mtime") or entry.get("LastModified") or entry.get("last_modified")
            if isinstance(written, int | float):
                written = datetime.fromtimestamp(written, UTC)
            if isinstance(written, datetime) and (now - written).total_seconds() > max_age_seconds:
                self.fs.rm(entry["name"], recursive=True)
                removed += 1
        return removed

    def put_json(self, key: str, value: dict) -> None:
        """Written to a temporary key, then moved: readers see the old or the new object, never half."""
        tmp = self.tmp_key("json")
        with self.open_write(tmp) as handle:
            handle.write(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode())
        self.move(tmp, key)

    def move(self, src: str, dst: str) -> None:
        """Move a key or a folder of keys. Local folders are renamed at once; object stores copy every
        key (object.json last) and then delete the sources (object.json first), so a move cut short
        leaves a complete copy on one side or both, never a half object on its own."""
        if self.is_local:
            self.fs.makedirs(posixpath.dirname(self.path(dst)), exist_ok=True)
            self.fs.mv(self.path(src), self.path(dst), recursive=True)
            return
        source = self.path(src)
        if self.fs.isfile(source):
            self.fs.mv(source, self.path(dst))
            return
        files = sorted(self.fs.find(source), key=lambda f: f.endswith("/object.json"))
        for name in files:
            self.fs.copy(name, self.path(dst) + name[len(source):])
        for name in reversed(files):
            self.fs.rm(name)

    def remove(self, key: str) -> None:
        try:
            self.fs.rm(self.path(key), recursive=True)
        except FileNotFoundError:
            pass


LOCK_KEY = "_meta/.lock"
_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def bucket_lock(store: Store):
    """Serialize changes to one bucket: a per-process lock, plus for a local bucket an advisory
    `fcntl.flock` on `<bucket>/_meta/.lock` so several processes sharing the folder take turns. Object
    stores have no such lock: there only the per-process lock holds."""
    with _PROCESS_LOCKS_GUARD:
        lock = _PROCESS_LOCKS.setdefault(store.path(""), threading.Lock())
    with lock:
        if not store.is_local:
            yield
            return
        import fcntl

        path = store.path(LOCK_KEY)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
