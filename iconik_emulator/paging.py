"""iconik's list envelopes: numbered pages (relative next_url, 404 past the end) and `last_id` cursors."""

from __future__ import annotations

import math
from urllib.parse import urlencode


class ApiError(Exception):
    def __init__(self, status: int, message: str | list | dict):
        super().__init__(message)
        self.status = status
        self.errors = message if isinstance(message, list | dict) else [message]


def int_param(params, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, {name: f"Not a valid integer: {raw!r}"}) from exc
    if not low <= value <= high:
        raise ApiError(400, {name: f"Must be between {low} and {high}."})
    return value


def _url(path: str, params: dict) -> str:
    return f"{path}?{urlencode(params)}"


def numbered(items: list, path: str, params, extra: dict | None = None, max_per_page: int = 1000) -> dict:
    """A page of `items` with iconik's envelope; page past the end is a 404."""
    per_page = int_param(params, "per_page", 10, 0, max_per_page)
    page = int_param(params, "page", 1, 1, 10_000)
    total = len(items)
    pages = math.ceil(total / per_page) if per_page else 0
    if page > max(pages, 1):
        raise ApiError(404, "Requested page does not exist")
    start = (page - 1) * per_page
    keep = {**(extra or {}), "per_page": per_page}
    return {
        "objects": items[start:start + per_page],
        "page": page, "pages": pages, "per_page": per_page, "total": total,
        "first_url": _url(path, {**keep, "page": 1}),
        "last_url": _url(path, {**keep, "page": max(pages, 1)}),
        "next_url": _url(path, {**keep, "page": page + 1}) if page < pages else None,
        "prev_url": _url(path, {**keep, "page": page - 1}) if page > 1 else None,
        "scroll_id": None,
    }


def cursor(items: list, path: str, params, key: str = "id", cursor_param: str = "last_id",
           default_per_page: int = 10, extra: dict | None = None) -> dict:
    """The files-service style: items sorted by `key`, the next page starts after `last_id`."""
    per_page = int_param(params, "per_page", default_per_page, 1, 1000)
    items = sorted(items, key=lambda item: item[key])
    last = params.get(cursor_param)
    if last:
        items = [item for item in items if item[key] > last]
    chunk = items[:per_page]
    more = len(items) > per_page
    keep = {**(extra or {}), "per_page": per_page}
    return {
        "objects": chunk,
        "first_url": _url(path, keep),
        "next_url": _url(path, {**keep, cursor_param: chunk[-1][key]}) if more else None,
        "prev_url": None, "last_url": None, "page": None, "pages": None, "per_page": per_page, "total": None,
    }
