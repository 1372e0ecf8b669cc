"""Shared by the reliability tests and the soak run: configs, one sync, the ground-truth comparison."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

from destination_bucket.store import key_part
from iconik_emulator import EmulatorServer
from source_iconik.collections_tree import join_path
from tools.bucket_view import BucketView
from tools.pipeline import BIN, SyncResult, configured_catalog, discover, run_sync, write_json

SOAK = os.environ.get("SOAK") == "1"
TMP_NAME = re.compile(r"^[0-9a-f]{32}(-|$)")  # Store.tmp_key names: uuid4 hex, then an optional suffix


def source_config(emu: EmulatorServer, **extra) -> dict:
    return {"app_id": emu.app_id, "auth_token": emu.auth_token, "base_url": emu.base_url,
            "max_collection_depth": 50, **extra}


@functools.cache
def _discovered(tmp_root: str) -> dict:
    # discover reads nothing from iconik, so any well-formed config gives the catalog.
    cfg = write_json(Path(tmp_root) / "discover.json", {
        "app_id": "5f0c4b8e-6a1d-11ef-9c2a-0242ac120002", "auth_token": "discover-only-token-0123",
        "base_url": "http://127.0.0.1:9"})
    return discover(cfg)


def catalog(tmp: Path, streams: tuple[str, ...] | None = None) -> Path:
    """A configured catalog of the default streams (or just `streams`), written under `tmp`."""
    root = Path(os.environ.get("RELIABILITY_CACHE", "/tmp")) / f"reliability-{os.getuid()}"
    root.mkdir(parents=True, exist_ok=True)
    configured = configured_catalog(_discovered(str(root)))
    if streams is not None:
        configured["streams"] = [s for s in configured["streams"] if s["stream"]["name"] in streams]
    return write_json(tmp / "catalog.json", configured)


class Setup:
    """One emulator, one bucket, the config files and the catalog of a test."""

    def __init__(self, emu: EmulatorServer, tmp: Path, source_extra: dict | None = None,
                 destination_extra: dict | None = None, streams: tuple[str, ...] | None = None):
        self.emu, self.tmp = emu, tmp
        self.bucket = tmp / "bucket"
        self.source_cfg = source_config(emu, **(source_extra or {}))
        self.destination_cfg = {"bucket_url": str(self.bucket), **(destination_extra or {})}
        self.source = write_json(tmp / "source.json", self.source_cfg)
        self.destination = write_json(tmp / "destination.json", self.destination_cfg)
        self.catalog = catalog(tmp, streams)
        self.runs = 0

    def rewrite_source(self, **changes) -> None:
        self.source_cfg = {**self.source_cfg, **changes}
        self.source_cfg = {k: v for k, v in self.source_cfg.items() if v is not None}
        write_json(self.source, self.source_cfg)

    def rewrite_destination(self, **changes) -> None:
        self.destination_cfg = {**self.destination_cfg, **changes}
        write_json(self.destination, self.destination_cfg)

    def sync(self, state: list | None = None, check: bool = True, **options) -> SyncResult:
        self.runs += 1
        state_path = write_json(self.tmp / f"state-{self.runs}.json", state) if state else None
        result = run_sync(self.source, self.destination, self.catalog, state_path, **options)
        if check:
            assert result.ok, failure_text(result)
        return result

    def snapshot(self):
        return BucketView(self.bucket).snapshot()


def failure_text(result: SyncResult) -> str:
    return (f"source rc {result.source_rc}, destination rc {result.destination_rc}\n--- source\n"
            f"{result.source_log[-3000:]}\n--- destination\n{result.destination_log[-3000:]}")


def bucket_problems(emu: EmulatorServer, bucket: Path, live_ids: set[str] | None = None) -> dict[str, list]:
    """Missing, extra and corrupt objects of the `assets` stream against the emulator's ground truth,
    plus stray temp files; every list empty means the bucket equals iconik."""
    truth = emu.truth
    wanted = truth.live_asset_ids() if live_ids is None else live_ids
    live = BucketView(bucket).snapshot().live_ids("assets")  # folder names: encoded ids
    encoded = {key_part(i): i for i in wanted}
    problems: dict[str, list] = {"missing": sorted(set(encoded) - live), "extra": sorted(live - set(encoded)),
                                 "corrupt": [], "temp_files": []}
    for asset_id in sorted(encoded[k] for k in live & set(encoded)):
        folder = bucket / "objects" / "assets" / key_part(asset_id)
        try:
            doc = json.loads((folder / "object.json").read_text())
            record, expected = doc["record"], truth.asset(asset_id)
            ok = (record["title"] == expected["title"] and record["date_modified"] == expected["date_modified"]
                  and record["metadata"] == truth.metadata(asset_id)
                  and record["directory_paths"] == sorted({join_path(t) for t in truth.collection_title_paths(
                      asset_id)}))
            has_file = bool(truth.proxies(asset_id) or truth.original_file(asset_id))
            ok = ok and bool(doc["blobs"]) == has_file and "blob_error" not in doc
            names = {"object.json"}
            for blob in doc["blobs"]:
                data = (bucket / blob["key"]).read_bytes()
                names.add(Path(blob["key"]).name)
                ok = ok and data == truth.media_bytes(record["file_url"])
                ok = ok and blob["sha256"] == hashlib.sha256(data).hexdigest() and blob["size"] == len(data)
            ok = ok and {p.name for p in folder.iterdir()} == names  # no stray file beside the object
        except (OSError, KeyError, ValueError) as exc:
            problems["corrupt"].append(f"{asset_id}: {type(exc).__name__}: {exc}")
            continue
        if not ok:
            problems["corrupt"].append(asset_id)
    objects = bucket / "objects"
    if objects.is_dir():  # a temp file must never show up as (part of) an object
        problems["temp_files"] = [str(p) for p in objects.rglob("*") if TMP_NAME.match(p.name)]
    return problems


def integrity_problems(bucket: Path) -> list[str]:
    """Live objects that are not whole: unreadable object.json, or a file that differs from its recorded
    size and sha256 (stale-but-whole objects are fine mid-way; the next sync updates them)."""
    problems = []
    objects = bucket / "objects"
    for meta in objects.glob("*/*/object.json") if objects.is_dir() else []:
        try:
            doc = json.loads(meta.read_text())
            for blob in doc.get("blobs") or []:
                data = (bucket / blob["key"]).read_bytes()
                if blob["sha256"] != hashlib.sha256(data).hexdigest() or blob["size"] != len(data):
                    problems.append(f"{meta.parent.name}: {blob['key']} differs from its record")
        except (OSError, KeyError, ValueError) as exc:
            problems.append(f"{meta.parent.name}: {type(exc).__name__}: {exc}")
    return problems


def tmp_leftovers(bucket: Path) -> int:
    """Files left under `_tmp/` (only a killed destination leaves some; they are never objects)."""
    tmp = bucket / "_tmp"
    return sum(1 for p in tmp.rglob("*") if p.is_file()) if tmp.is_dir() else 0


def assert_bucket_is_ground_truth(emu: EmulatorServer, bucket: Path, live_ids: set[str] | None = None,
                                  tmp_allowed: bool = False) -> None:
    problems = bucket_problems(emu, bucket, live_ids)
    assert not any(problems.values()), {k: v[:10] for k, v in problems.items() if v}
    assert tmp_allowed or not tmp_leftovers(bucket), "no temp file left"


def merge_states(old: list | None, new: list) -> list:
    """The per-stream state to resume with: the newest echoed state of each stream, else the older one."""
    merged = {s["stream"]["stream_descriptor"]["name"]: s for s in old or []}
    merged.update({s["stream"]["stream_descriptor"]["name"]: s for s in new})
    return list(merged.values())


def duplicate_keys(result: SyncResult, stream: str = "assets") -> list:
    """Primary keys the source sent more than once in one sync (needs keep_keys=True)."""
    seen: set = set()
    dups = []
    for name, key in result.record_keys:
        if name == stream:
            if key in seen:
                dups.append(key)
            seen.add(key)
    return dups


def run_cli(program: str, *args: str, stdin: bytes | None = None, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """One real console script (`source-iconik` / `destination-bucket`), output as text."""
    return subprocess.run([str(BIN / program), *args], input=stdin, capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def messages(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.monotonic() - self.start
