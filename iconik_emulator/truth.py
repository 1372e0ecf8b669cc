"""Ground truth for tests: what a correct sync must produce, read straight from the library."""

from __future__ import annotations

import copy

from iconik_emulator.media import media_bytes
from iconik_emulator.state import EmulatorState


class Truth:
    def __init__(self, state: EmulatorState):
        self._state = state

    @property
    def _lib(self):
        return self._state.lib

    def live_asset_ids(self, status=("ACTIVE",), media_types=None) -> set[str]:
        return {a["id"] for a in self._lib.assets.values()
                if a["status"] in status and (media_types is None or a["media_type"] in media_types)}

    def deleted_asset_ids(self) -> set[str]:
        return {a["id"] for a in self._lib.assets.values() if a["status"] == "DELETED"}

    def asset(self, asset_id: str) -> dict:
        return copy.deepcopy(self._lib.assets[asset_id])

    def collection(self, collection_id: str) -> dict:
        return copy.deepcopy(self._lib.collections[collection_id])

    def collection_ids(self) -> list[str]:
        return list(self._lib.collections)

    def root_collection_ids(self) -> list[str]:
        return [c["id"] for c in self._lib.collections.values() if c["is_root"]]

    def view_ids(self) -> list[str]:
        return [v["id"] for v in self._lib.views]

    def collection_title_paths_of_collection(self, collection_id: str) -> list[tuple[str, ...]]:
        """Every path of titles from a root down to this collection (one per route through the parents)."""
        collections = self._lib.collections

        def walk(cid: str, seen: frozenset) -> list[tuple[str, ...]]:
            node = collections[cid]
            parents = [p for p in node["in_collections"] or [] if p in collections and p not in seen]
            if not parents:
                return [(node["title"],)]
            return [path + (node["title"],) for p in parents for path in walk(p, seen | {cid})]

        return sorted(set(walk(collection_id, frozenset())))

    def collection_title_paths(self, asset_id: str) -> list[tuple[str, ...]]:
        paths: set[tuple[str, ...]] = set()
        for collection_id in self._lib.assets[asset_id]["in_collections"]:
            if collection_id in self._lib.collections:
                paths.update(self.collection_title_paths_of_collection(collection_id))
        return sorted(paths)

    def ancestor_collections(self, asset_id: str) -> list[str]:
        return self._lib.asset_ancestors(asset_id)

    def metadata(self, asset_id: str, view_ids=None) -> dict[str, list]:
        return self._lib.flattened_metadata(asset_id, view_ids)

    def proxies(self, asset_id: str) -> list[dict]:
        return copy.deepcopy(self._lib.proxies.get(asset_id, []))

    def original_file(self, asset_id: str) -> dict | None:
        files = self._lib.files.get(asset_id) or []
        return copy.deepcopy(files[0]) if files else None

    def file_bytes(self, object_id: str, size: int) -> bytes:
        """The bytes a signed URL of proxy/file `object_id` serves."""
        return media_bytes(object_id, size)

    def media_bytes(self, url: str) -> bytes:
        token = url.split("/_media/")[1].split("/")[0]
        signature = url.split("sig=")[1].split("&")[0]
        claims = self._state.verify(token, signature)
        if claims is None:
            raise ValueError("not a URL this emulator signed")
        return media_bytes(claims["o"], int(claims["s"]))
