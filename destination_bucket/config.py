"""destination-bucket's config, checked up front into one readable config error per problem."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

KNOWN_FIELDS = frozenset({
    "bucket_url", "endpoint_url", "aws_access_key_id", "aws_secret_access_key", "region", "download_files",
    "file_url_field", "download_concurrency", "delete_grace_period_hours", "max_delete_fraction",
    "webhook_secret", "webhook_secret_header", "webhook_filters", "webhook_reconcile_updates",
})
WEBHOOK_FILTER_FIELDS = ("status", "media_types", "collection_ids", "path_patterns")
ASSET_STATUSES = ("ACTIVE", "DELETED", "IN_PROGRESS", "HIDDEN")  # as source-iconik's `status` option
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
SUPPORTED_SCHEMES = ("", "file", "local", "s3", "s3a", "gs", "gcs", "az", "abfs", "memory")


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


@dataclass(frozen=True)
class WebhookFilters:
    """The sync's scope as the webhook receiver re-checks it on asset updates (mirror the source's options)."""

    status: tuple[str, ...] = ("ACTIVE",)
    media_types: tuple[str, ...] = ()
    collection_ids: tuple[str, ...] = ()
    path_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class BucketConfig:
    bucket_url: str
    storage_options: dict = field(default_factory=dict, repr=False)
    download_files: bool = True
    file_url_field: str = "file_url"
    download_concurrency: int = 4
    delete_grace_period_hours: float = 24.0
    max_delete_fraction: float = 0.1
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_secret_header: str | None = None
    webhook_filters: WebhookFilters = field(default_factory=WebhookFilters)
    webhook_reconcile_updates: bool = True


def _number(raw: dict, name: str, default: float, low: float, high: float, integer: bool = False) -> float:
    value = raw.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not float(value).is_integer()):
        kind = "a whole number" if integer else "a number"
        raise config_error(f"'{name}' must be {kind} between {low} and {high}; got {value!r}.")
    if not low <= value <= high:
        raise config_error(f"'{name}' must be between {low} and {high}; got {value}.")
    return int(value) if integer else float(value)


def _webhook_filters(raw: Any) -> WebhookFilters:
    if raw is None:
        return WebhookFilters()
    if not isinstance(raw, dict):
        raise config_error("'webhook_filters' must be an object with status, media_types, collection_ids and/or "
                           "path_patterns.")
    unknown = sorted(set(raw) - set(WEBHOOK_FILTER_FIELDS))
    if unknown:
        raise config_error(f"'webhook_filters' has unknown field(s): {', '.join(unknown)}; use "
                           f"{', '.join(WEBHOOK_FILTER_FIELDS)}.")
    lists = {}
    for name in WEBHOOK_FILTER_FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise config_error(f"'webhook_filters.{name}' must be a list of non-empty strings.")
        lists[name] = tuple(v.strip() for v in value)
    statuses = tuple(s.upper() for s in lists.get("status", ("ACTIVE",)))
    bad = [s for s in statuses if s not in ASSET_STATUSES]
    if bad or not statuses:
        raise config_error(f"'webhook_filters.status' must list values from {', '.join(ASSET_STATUSES)}; "
                           f"got {list(lists.get('status', ()))}.")
    for pattern in lists.get("path_patterns", ()):
        if pattern.count("[") != pattern.count("]"):
            raise config_error(f"'webhook_filters.path_patterns' has an invalid glob {pattern!r}: "
                               "unbalanced brackets.")
    return WebhookFilters(
        status=statuses,
        media_types=tuple(m.lower() for m in lists.get("media_types", ())),
        collection_ids=lists.get("collection_ids", ()),
        path_patterns=lists.get("path_patterns", ()),
    )


def parse_config(raw: Any) -> BucketConfig:
    if not isinstance(raw, dict):
        raise config_error("The config must be a JSON object.")
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise config_error(f"Unknown config field(s): {', '.join(unknown)}. Check the spelling against the spec.")
    url = raw.get("bucket_url", "./bucket")
    if not isinstance(url, str) or not url.strip():
        raise config_error("'bucket_url' is required: a local folder or a bucket URL such as s3://bucket/prefix.")
    url = url.strip()
    scheme = urlparse(url).scheme if "://" in url else ""
    if scheme not in SUPPORTED_SCHEMES:
        raise config_error(f"'bucket_url' has an unsupported scheme {scheme!r}: use a local path or one of "
                           "s3://, gs://, az://.")
    if scheme in ("s3", "s3a", "gs", "gcs", "az", "abfs") and not urlparse(url).netloc:
        raise config_error(f"'bucket_url' must name a bucket, e.g. {scheme}://my-bucket/prefix.")
    options: dict = {}
    if scheme in ("s3", "s3a"):
        if raw.get("endpoint_url"):
            endpoint = str(raw["endpoint_url"])
            if urlparse(endpoint).scheme not in ("http", "https"):
                raise config_error("'endpoint_url' must be an http(s) URL.")
            options["client_kwargs"] = {"endpoint_url": endpoint}
        if raw.get("region"):
            options.setdefault("client_kwargs", {})["region_name"] = raw["region"]
        if raw.get("aws_access_key_id") or raw.get("aws_secret_access_key"):
            if not (raw.get("aws_access_key_id") and raw.get("aws_secret_access_key")):
                raise config_error("'aws_access_key_id' and 'aws_secret_access_key' go together: set both or neither.")
            options["key"], options["secret"] = raw["aws_access_key_id"], raw["aws_secret_access_key"]
    field_name = raw.get("file_url_field", "file_url")
    if not isinstance(field_name, str) or not field_name.strip():
        raise config_error("'file_url_field' must name a record field, e.g. file_url.")
    download = raw.get("download_files", True)
    if not isinstance(download, bool):
        raise config_error("'download_files' must be true or false.")
    secret = raw.get("webhook_secret")
    if secret is not None and (not isinstance(secret, str) or len(secret.strip()) < 8):
        raise config_error("'webhook_secret' must be a string of at least 8 characters.")
    header = raw.get("webhook_secret_header")
    if header is not None and (not isinstance(header, str) or (header.strip()
                                                                and not HEADER_NAME.match(header.strip()))):
        raise config_error("'webhook_secret_header' must be an HTTP header name such as X-Webhook-Secret.")
    reconcile = raw.get("webhook_reconcile_updates", True)
    if not isinstance(reconcile, bool):
        raise config_error("'webhook_reconcile_updates' must be true or false.")
    return BucketConfig(
        bucket_url=url,
        storage_options=options,
        download_files=download,
        file_url_field=field_name.strip(),
        download_concurrency=int(_number(raw, "download_concurrency", 4, 1, 64, integer=True)),
        delete_grace_period_hours=_number(raw, "delete_grace_period_hours", 24.0, 0, 8760),
        max_delete_fraction=_number(raw, "max_delete_fraction", 0.1, 0, 1),
        webhook_secret=secret.strip() if secret else None,
        webhook_secret_header=(header or "").strip() or None,
        webhook_filters=_webhook_filters(raw.get("webhook_filters")),
        webhook_reconcile_updates=reconcile,
    )
