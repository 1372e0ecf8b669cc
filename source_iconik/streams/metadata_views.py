"""`metadata_views`: the views and their fields, with each field's type (full refresh)."""

from __future__ import annotations

from collections.abc import Iterable

from source_iconik.streams.base import IconikStream

FIELD_KEYS = ("name", "label", "field_type", "multi", "required", "read_only", "options", "description")


class MetadataViews(IconikStream):
    name = "metadata_views"

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None) -> Iterable[dict]:
        wanted = set(self.config.metadata_view_ids)
        for summary in self.context.views:
            if wanted and summary["id"] not in wanted:
                continue
            # The list form lacks field types; the view itself has them (merge_fields=true, the default).
            view = self.client.get(f"/API/metadata/v1/views/{summary['id']}/", allow_404=True) or summary
            fields = [{key: field.get(key) for key in FIELD_KEYS} for field in view.get("view_fields") or []
                      if field.get("name") != "__separator__"]
            yield {"id": summary["id"], "name": view.get("name"), "description": view.get("description"),
                   "date_created": view.get("date_created"), "date_modified": view.get("date_modified"),
                   "view_fields": fields}
