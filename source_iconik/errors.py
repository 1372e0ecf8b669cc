"""How iconik's answers map to CDK actions, and how long to wait before retrying."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, HttpStatusErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.default_error_mapping import DEFAULT_ERROR_MAPPING
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

# Which role a path needs (iconik-api.md: roles per service), for readable 403 messages.
ROLES = (
    (re.compile(r"/API/search/"), "search (role can_search)"),
    (re.compile(r"/API/files/v1/assets/[^/]+/proxies"), "proxies (role can_read_proxies)"),
    (re.compile(r"/API/files/v1/assets/[^/]+/formats"), "formats (role can_read_formats)"),
    (re.compile(r"/API/files/"), "files (role can_read_files)"),
    (re.compile(r"/API/metadata/"), "metadata (role can_read_metadata)"),
    (re.compile(r"/API/assets/v1/collections"), "collections (role can_read_collections)"),
    (re.compile(r"/API/assets/v1/delete_queue"), "the recycle bin (role can_read_assets)"),
    (re.compile(r"/API/assets/"), "assets (role can_read_assets)"),
    (re.compile(r"/API/users/"), "its own user (role can_read_users)"),
)

UNAUTHORIZED = ("The App ID or token is wrong: iconik answered 401 Unauthorized. Copy both again from iconik's "
                "Admin > Settings > Application Tokens (the token belongs to one App ID).")

ICONIK_ERROR_MAPPING = {
    **DEFAULT_ERROR_MAPPING,
    401: ErrorResolution(ResponseAction.FAIL, FailureType.config_error, UNAUTHORIZED),
    # 404 means "no values" for a metadata view and "past the last page" for lists: callers decide.
    404: ErrorResolution(ResponseAction.IGNORE, None, None),
}


def forbidden_message(url: str) -> str:
    for pattern, what in ROLES:
        if pattern.search(url):
            return f"The token's user lacks the role to read {what}: iconik answered 403 Forbidden."
    return "The token's user lacks a role iconik requires: iconik answered 403 Forbidden."


class IconikErrorHandler(HttpStatusErrorHandler):
    def __init__(self, logger: logging.Logger, max_retries: int = 6):
        super().__init__(logger, error_mapping=ICONIK_ERROR_MAPPING, max_retries=max_retries,
                         max_time=timedelta(minutes=15))

    def interpret_response(self, response_or_exception=None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response):
            status = response_or_exception.status_code
            if status == 403:
                return ErrorResolution(ResponseAction.FAIL, FailureType.config_error,
                                       forbidden_message(response_or_exception.request.url or ""))
            if status == 400 or (400 < status < 500 and status not in (401, 404, 408, 429)):
                return ErrorResolution(ResponseAction.FAIL, FailureType.config_error,
                                       f"iconik rejected a request ({status}): {_error_text(response_or_exception)}")
        return super().interpret_response(response_or_exception)


def _error_text(response: requests.Response) -> str:
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {v}" for k, v in errors.items())
    if isinstance(errors, list):
        return "; ".join(map(str, errors))
    return str(errors)


class IconikBackoff(BackoffStrategy):
    """`Retry-After` when iconik sends it (it is not documented to), else exponential from `base` seconds."""

    def __init__(self, base: float = 1.0, cap: float = 60.0):
        self.base, self.cap = base, cap

    def backoff_time(self, response_or_exception, attempt_count: int) -> float | None:
        if isinstance(response_or_exception, requests.Response):
            retry_after = response_or_exception.headers.get("Retry-After")
            if retry_after:
                try:
                    return max(0.0, min(float(retry_after), self.cap))
                except ValueError:
                    pass
        return min(self.cap, self.base * 2 ** max(0, attempt_count - 1))
