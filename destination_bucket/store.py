"""The bucket: one fsspec filesystem (a local folder by default, s3:// and others by URL) under a root.

Keys are `/`-separated and always relative to the root; `key_part` makes any primary key value safe to
use as one path segment, so no record can write outside the bucket prefix.
"""

from __future__ import annotations

import json
import posixpath
import uuid
from urllib.parse import quote

import fsspec

TMP_PREFIX = "_tmp"


def key_part(value) -> str:
    """One safe path segment for a key value: percent-encoded, never empty, `.` or `..`."""
    text = quote(str(value), safe="-_.~")
    if text in ("", ".", ".."):
        text = text.replace(".", "%2E") or "%00"
    return text[:400]


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

    def put_json(self, key: str, value: dict) -> None:
        """Written to a temporary key, then moved: readers see the old or the new object, never half."""
        tmp = self.tmp_key("json")
        with self.open_write(tmp) as handle:
            handle.write(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode())
        self.move(tmp, key)

    def move(self, src: str, dst: str) -> None:
        if self.is_local:
            self.fs.makedirs(posixpath.dirname(self.path(dst)), exist_ok=True)
        self.fs.mv(self.path(src), self.path(dst), recursive=True)

    def remove(self, key: str) -> None:
        try:
            self.fs.rm(self.path(key), recursive=True)
        except FileNotFoundError:
            pass
