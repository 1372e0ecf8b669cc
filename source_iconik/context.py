"""What every stream of one sync shares: the config, the one client, the collection tree, the views.

The tree and the views are read at most once per process, on first use (never during discover).
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property

from source_iconik.client import IconikClient
from source_iconik.collections_tree import CollectionTree
from source_iconik.config import IconikConfig

COLLECTIONS_PATH = "/API/assets/v1/collections/"
VIEWS_PATH = "/API/metadata/v1/views/"


class SyncContext:
    def __init__(self, config: IconikConfig, logger: logging.Logger | None = None, **client_options):
        self.config = config
        self.logger = logger or logging.getLogger("airbyte")
        self.client = IconikClient(config, self.logger, **client_options)
        self._lock = threading.Lock()

    @cached_property
    def collections(self) -> list[dict]:
        """Every live collection (one paged list call per 1000 collections)."""
        return [c for c in self.client.paginate(COLLECTIONS_PATH, {"per_page": 1000})
                if c.get("status") != "DELETED"]

    @cached_property
    def tree(self) -> CollectionTree:
        return CollectionTree.build(self.collections, self.config.max_collection_depth)

    @cached_property
    def views(self) -> list[dict]:
        return (self.client.get(VIEWS_PATH) or {}).get("objects") or []

    @cached_property
    def view_fields(self) -> dict[str, list[str]]:
        return {
            view["id"]: [f["name"] for f in view.get("view_fields") or [] if f.get("name") != "__separator__"]
            for view in self.views
        }
