"""The user's config, checked once up front: one readable config error per problem, naming the field."""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

FILE_PREFERENCES = ("proxy_then_original", "proxy_only", "original_only", "none")
STATUSES = ("ACTIVE", "DELETED", "IN_PROGRESS", "HIDDEN")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
KNOWN_FIELDS = frozenset({
    "app_id", "auth_token", "base_url", "start_date", "collection_ids", "path_patterns", "status", "media_types",
    "metadata_view_ids", "file_preference", "max_collection_depth", "lookback_window_seconds", "page_size",
    "concurrency",
})
NUMBERS = {  # field: (default, minimum, maximum)
    "max_collection_depth": (10, 1, 100),
    "lookback_window_seconds": (300, 0, 604_800),
    "page_size": (500, 1, 1000),
    "concurrency": (8, 1, 32),
}


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


@dataclass(frozen=True)
class IconikConfig:
    app_id: str
    auth_token: str
    base_url: str
    start_date: datetime | None
    collection_ids: tuple[str, ...]
    path_patterns: tuple[str, ...]
    status: tuple[str, ...]
    media_types: tuple[str, ...]
    metadata_view_ids: tuple[str, ...]
    file_preference: str
    max_collection_depth: int
    lookback_window_seconds: int
    page_size: int
    concurrency: int

    @property
    def scope_key(self) -> str:
        """A stable description of the filters, so a destination can tell when the scope changed."""
        parts = [",".join(sorted(self.collection_ids)), ",".join(sorted(p.lower() for p in self.path_patterns)),
                 ",".join(sorted(self.status)), ",".join(sorted(self.media_types))]
        return "|".join(parts)


def _string_list(raw: dict, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    value = raw.get(name)
    if value is None:
        return default
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise config_error(f"'{name}' must be a list of strings.")
    cleaned = tuple(v.strip() for v in value)
    if any(not v for v in cleaned):
        raise config_error(f"'{name}' contains an empty value.")
    return cleaned


def _uuid(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise config_error(f"'{name}' must be a UUID like 2c5bfe1a-f149-11eb-a843-0a580a3db916; got {value!r}.") from None


def _base_url(raw: Any) -> str:
    if raw is None or raw == "":
        return "https://app.iconik.io"
    if not isinstance(raw, str):
        raise config_error("'base_url' must be a URL such as https://app.iconik.io.")
    parsed = urlparse(raw.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise config_error(f"'base_url' must be an http(s) URL such as https://app.iconik.io; got {raw!r}.")
    if parsed.scheme == "http" and not _is_loopback(parsed.hostname):
        raise config_error("'base_url' must use https:// (plain http:// is only allowed for localhost).")
    if parsed.query or parsed.fragment or parsed.username or parsed.password:
        raise config_error("'base_url' must be just the scheme and host, e.g. https://app.iconik.io.")
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path.rstrip('/')}"


def _is_loopback(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _start_date(raw: Any) -> datetime | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise config_error("'start_date' must be an ISO 8601 date-time such as 2024-01-01T00:00:00Z.")
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise config_error(f"'start_date' must be an ISO 8601 date-time such as 2024-01-01T00:00:00Z; got {raw!r}.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _number(raw: dict, name: str) -> int:
    default, low, high = NUMBERS[name]
    value = raw.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise config_error(f"'{name}' must be a whole number between {low} and {high}; got {value!r}.")
    if not low <= value <= high:
        raise config_error(f"'{name}' must be between {low} and {high}; got {value}.")
    return value


def _patterns(raw: dict) -> tuple[str, ...]:
    patterns = _string_list(raw, "path_patterns")
    for pattern in patterns:
        try:
            re.compile(fnmatch.translate(pattern))
        except re.error as exc:
            raise config_error(f"'path_patterns' has an invalid glob {pattern!r}: {exc}.") from None
        if pattern.count("[") != pattern.count("]"):
            raise config_error(f"'path_patterns' has an invalid glob {pattern!r}: unbalanced brackets.")
    return patterns


def parse_config(raw: Any) -> IconikConfig:
    if not isinstance(raw, dict):
        raise config_error("The config must be a JSON object.")
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise config_error(f"Unknown config field(s): {', '.join(unknown)}. Check the spelling against the spec.")
    app_id = raw.get("app_id")
    if not isinstance(app_id, str) or not app_id.strip():
        raise config_error("'app_id' is required: the App-ID of your iconik application token.")
    token = raw.get("auth_token")
    if not isinstance(token, str) or not token.strip():
        raise config_error("'auth_token' is required: the token of your iconik application token.")
    if len(token.strip()) < 8 or any(c.isspace() for c in token.strip()):
        raise config_error("'auth_token' does not look like an iconik token (too short or contains spaces).")
    statuses = _string_list(raw, "status", ("ACTIVE",))
    bad = [s for s in statuses if s.upper() not in STATUSES]
    if bad or not statuses:
        raise config_error(f"'status' must list values from {', '.join(STATUSES)}; got {list(statuses)}.")
    preference = raw.get("file_preference") or "proxy_then_original"
    if preference not in FILE_PREFERENCES:
        raise config_error(f"'file_preference' must be one of {', '.join(FILE_PREFERENCES)}; got {preference!r}.")
    return IconikConfig(
        app_id=_uuid(app_id, "app_id"),
        auth_token=token.strip(),
        base_url=_base_url(raw.get("base_url")),
        start_date=_start_date(raw.get("start_date")),
        collection_ids=tuple(_uuid(c, "collection_ids") for c in _string_list(raw, "collection_ids")),
        path_patterns=_patterns(raw),
        status=tuple(s.upper() for s in statuses),
        media_types=tuple(m.lower() for m in _string_list(raw, "media_types")),
        metadata_view_ids=tuple(_uuid(v, "metadata_view_ids") for v in _string_list(raw, "metadata_view_ids")),
        file_preference=preference,
        max_collection_depth=_number(raw, "max_collection_depth"),
        lookback_window_seconds=_number(raw, "lookback_window_seconds"),
        page_size=_number(raw, "page_size"),
        concurrency=_number(raw, "concurrency"),
    )
