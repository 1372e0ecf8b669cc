"""`collections`: every collection in scope with its directory paths, depth and parents (full refresh).

iconik's collection list has no date filter, so an incremental read would cost the same full list; the
stream is full refresh and costs one call per 1000 collections (the same list the asset paths use).
"""

from __future__ import annotations

from collections.abc import Iterable

from source_iconik.streams.base import IconikStream

COLLECTION_FIELDS = (
    "id", "title", "status", "is_root", "parent_id", "parents", "in_collections", "category", "external_id",
    "created_by_user", "date_created", "date_modified", "date_deleted",
)


class Collections(IconikStream):
    name = "collections"

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None) -> Iterable[dict]:
        tree = self.context.tree
        wanted = tree.under(self.config.collection_ids) if self.config.collection_ids else None
        for collection in self.context.collections:
            collection_id = collection["id"]
            if not tree.in_scope(collection_id) or (wanted is not None and collection_id not in wanted):
                continue
            record = {name: collection.get(name) for name in COLLECTION_FIELDS}
            paths = tree.paths[collection_id]
            record["directory_path"] = paths[0]
            record["directory_paths"] = paths
            record["depth"] = tree.depth[collection_id]
            yield record
