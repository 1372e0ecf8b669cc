"""Turn an asset search document into an `assets` record, calling iconik only for what the document lacks.

Search documents normally carry flattened `metadata`, `in_collections`, `keyframes` and (when asked with
`generate_signed_proxy_url`) `proxies`. When one is missing, the matching per-asset endpoint fills it:
one call per metadata view (404 = no values), the asset itself (`include_collections`), its keyframes,
proxies or original file. The record is the same either way.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable

from source_iconik.client import IconikClient
from source_iconik.collections_tree import CollectionTree, PathMatcher
from source_iconik.config import IconikConfig

ASSET_FIELDS = (
    "id", "title", "type", "status", "media_type", "date_created", "date_modified", "date_imported", "date_deleted",
    "is_online", "archive_status", "analyze_status", "category", "external_id", "created_by_user",
    "updated_by_user", "deleted_by_user", "duration_milliseconds",
)
BAD_FILE_STATUSES = frozenset({"FAILED", "DELETED", "MISSING", "ARCHIVED"})
PROXY_PREFERENCES = ("proxy_then_original", "proxy_only")


def flatten_view_values(body: dict | None) -> dict[str, list]:
    """`metadata_values.{field}.field_values[{value}]` (or the legacy `{field: {values: [...]}}`) -> lists."""
    if not body:
        return {}
    values = body.get("metadata_values")
    if values is None:
        values = {k: v for k, v in body.items() if isinstance(v, dict) and "values" in v}
    flat = {}
    for name, entry in (values or {}).items():
        items = (entry or {}).get("field_values")
        if items is None:
            items = (entry or {}).get("values")
        plain = [item.get("value") if isinstance(item, dict) else item for item in items or []]
        if plain:
            flat[name] = plain
    return flat


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class AssetEnricher:
    def __init__(self, client: IconikClient, config: IconikConfig, tree: CollectionTree,
                 view_fields: dict[str, list[str]]):
        self.client, self.config, self.tree = client, config, tree
        self.matcher = PathMatcher(config.path_patterns)
        wanted_views = config.metadata_view_ids or tuple(view_fields)
        self.view_ids = [v for v in wanted_views if v in view_fields] or list(config.metadata_view_ids)
        self.allowed_fields = (
            {f for v in config.metadata_view_ids for f in view_fields.get(v, [])} if config.metadata_view_ids else None
        )
        self.wants_proxy = config.file_preference in PROXY_PREFERENCES

    # ---- what a document lacks -------------------------------------------------------------------------
    def lacks(self, doc: dict) -> bool:
        return (not isinstance(doc.get("metadata"), dict) or "in_collections" not in doc or "keyframes" not in doc
                or (self.wants_proxy and "proxies" not in doc) or self._needs_original(doc))

    def _needs_original(self, doc: dict) -> bool:
        if self.config.file_preference == "original_only":
            return True
        if self.config.file_preference == "proxy_then_original" and "proxies" in doc:
            return self._pick_proxy(doc["proxies"]) is None and bool(doc.get("files", True))
        return False

    # ---- building the record ---------------------------------------------------------------------------
    def scoped_paths(self, doc: dict) -> tuple[list[str], list[str]] | None:
        """(direct collections, directory paths) of an asset, or None when path patterns exclude it."""
        in_collections = doc.get("in_collections")
        if in_collections is None:
            fetched = self.client.get(f"/API/assets/v1/assets/{doc['id']}/", {"include_collections": "true"},
                                      allow_404=True) or {}
            in_collections = fetched.get("in_collections") or []
        paths = self.tree.paths_of(in_collections)
        if self.matcher and not self.matcher.matches_any(paths):
            return None
        return list(in_collections), paths

    def record(self, doc: dict) -> dict | None:
        """The record for one search document, or None when it is out of scope (path patterns)."""
        scoped = self.scoped_paths(doc)
        if scoped is None:
            return None
        in_collections, paths = scoped
        record = dict(zip(ASSET_FIELDS, map(doc.get, ASSET_FIELDS), strict=True))
        record["in_collections"] = in_collections
        record["ancestor_collections"] = doc.get("ancestor_collections")
        record["directory_path"] = paths[0] if paths else None
        record["directory_paths"] = paths
        record["metadata"] = self._metadata(doc)
        record["thumbnail_url"] = self._thumbnail(doc)
        record.update(self._file(doc))
        return record

    def _metadata(self, doc: dict) -> dict[str, list]:
        embedded = doc.get("metadata")
        if isinstance(embedded, dict):
            flat = {}
            for k, v in embedded.items():  # hot loop: the same as _as_list(v) for v not in (None, [], "")
                if isinstance(v, list):
                    if v:
                        flat[k] = v
                elif v is not None and v != "" and v != []:
                    flat[k] = [v]
        else:
            flat = {}
            for view_id in self.view_ids:
                body = self.client.get(f"/API/metadata/v1/assets/{doc['id']}/views/{view_id}/", allow_404=True)
                flat.update(flatten_view_values(body))
        if self.allowed_fields is not None:
            flat = {k: v for k, v in flat.items() if k in self.allowed_fields}
        return dict(sorted(flat.items()))

    def _thumbnail(self, doc: dict) -> str | None:
        keyframes = doc.get("keyframes")
        if keyframes is None:
            page = self.client.get(f"/API/files/v1/assets/{doc['id']}/keyframes/",
                                   {"per_page": 10, "generate_signed_url": "true"}, allow_404=True) or {}
            keyframes = page.get("objects") or []
        for wanted in ("KEYFRAME", "POSTER", None):
            for keyframe in keyframes:
                if keyframe.get("url") and (wanted is None or keyframe.get("type") == wanted):
                    return keyframe["url"]
        return None

    @staticmethod
    def _pick_proxy(proxies: Iterable[dict]) -> dict | None:
        for proxy in proxies or []:
            if proxy.get("url") and proxy.get("status") not in BAD_FILE_STATUSES:
                return proxy
        return None

    def proxies(self, doc: dict) -> list[dict]:
        if "proxies" in doc:
            return doc["proxies"] or []
        page = self.client.get(f"/API/files/v1/assets/{doc['id']}/proxies/",
                               {"per_page": 10, "generate_signed_url": "true"}, allow_404=True) or {}
        return page.get("objects") or []

    def _original(self, asset_id: str) -> dict | None:
        page = self.client.get(f"/API/files/v1/assets/{asset_id}/files/",
                               {"per_page": 100, "generate_signed_url": "true"}, allow_404=True) or {}
        files = [f for f in page.get("objects") or [] if f.get("type", "FILE") == "FILE"
                 and f.get("status") not in BAD_FILE_STATUSES]
        if len({f.get("format_id") for f in files}) > 1:
            original = self.client.get(f"/API/files/v1/assets/{asset_id}/formats/ORIGINAL/", allow_404=True) or {}
            files = [f for f in files if f.get("format_id") == original.get("id")] or files
        if not files:
            return None
        chosen = files[0]
        if not chosen.get("url"):
            link = self.client.get(f"/API/files/v1/assets/{asset_id}/files/{chosen['id']}/download_url/",
                                   allow_404=True) or {}
            chosen = {**chosen, "url": link.get("url")}
        return chosen

    def _file(self, doc: dict) -> dict:
        preference = self.config.file_preference
        out = {"proxy_url": None, "original_url": None, "file_url": None, "file_name": None, "file_size": None,
               "file_content_type": None}
        if preference == "none":
            return out
        chosen = None
        if self.wants_proxy:
            proxy = self._pick_proxy(self.proxies(doc))
            if proxy:
                out["proxy_url"] = proxy["url"]
                chosen = (proxy["url"], proxy.get("filename") or proxy.get("name"), proxy.get("size"))
        # A search document's `files` list ([] = the asset has no original) saves the per-asset files call.
        if (preference == "original_only" or (preference == "proxy_then_original" and chosen is None)) \
                and doc.get("files", True):
            original = self._original(doc["id"])
            if original and original.get("url"):
                out["original_url"] = original["url"]
                chosen = (original["url"], original.get("original_name") or original.get("name"),
                          original.get("size"))
        if chosen:
            url, name, size = chosen
            out.update(file_url=url, file_name=name, file_size=size,
                       file_content_type=mimetypes.guess_type(name or "")[0] if name else None)
        return out
