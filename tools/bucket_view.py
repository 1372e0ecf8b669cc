"""A read-only view of a local folder bucket written by destination-bucket, for the demo and tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Snapshot:
    live: dict[str, dict[str, str]] = field(default_factory=dict)  # stream -> id -> object.json digest
    trashed: dict[str, set[str]] = field(default_factory=dict)  # stream -> ids under _trash/

    def live_ids(self, stream: str) -> set[str]:
        return set(self.live.get(stream, {}))

    def changes_to(self, after: Snapshot, stream: str = "assets") -> dict[str, set[str]]:
        before_live, after_live = self.live.get(stream, {}), after.live.get(stream, {})
        was_trashed = self.trashed.get(stream, set())
        return {
            "written": {i for i in after_live if i not in before_live and i not in was_trashed},
            "updated": {i for i in after_live if i in before_live and before_live[i] != after_live[i]},
            "unchanged": {i for i in after_live if before_live.get(i) == after_live[i]},
            "deleted": {i for i in before_live if i not in after_live},
            "restored": {i for i in after_live if i not in before_live and i in was_trashed},
        }


class BucketView:
    def __init__(self, root: Path):
        self.root = Path(root)

    def snapshot(self) -> Snapshot:
        snap = Snapshot()
        objects = self.root / "objects"
        if objects.is_dir():
            for stream_dir in objects.iterdir():
                entries = snap.live.setdefault(stream_dir.name, {})
                for object_dir in stream_dir.iterdir():
                    meta = object_dir / "object.json"
                    if meta.is_file():
                        entries[object_dir.name] = hashlib.sha256(meta.read_bytes()).hexdigest()
        trash = self.root / "_trash"
        if trash.is_dir():
            for stream_dir in trash.iterdir():
                if stream_dir.is_dir():
                    snap.trashed[stream_dir.name] = {p.name for p in stream_dir.iterdir()}
        return snap
