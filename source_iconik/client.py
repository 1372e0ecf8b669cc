"""IconikClient: the one place that talks HTTP to iconik.

Built on the CDK's HttpClient (retries, backoff, error mapping) with ONE HttpAPIBudget shared by every
stream and worker thread of the process: a moving window of 50 requests per second and 1000 per 20 s,
iconik's documented limits. It also slows down on its own when iconik's `RateLimit-Remaining` runs low,
so the budget is spent before iconik has to answer 429.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.call_rate import HttpAPIBudget, MovingWindowCallRatePolicy, Rate
from airbyte_cdk.sources.streams.http.http_client import HttpClient
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iconik.config import IconikConfig
from source_iconik.errors import IconikBackoff, IconikErrorHandler

# iconik's documented limits, per token (iconik-api.md §8).
RATES = (Rate(limit=50, interval=timedelta(seconds=1)), Rate(limit=1000, interval=timedelta(seconds=20)))
# Below this many remaining calls in iconik's bucket we pause, so the bucket drains instead of overflowing.
LOW_WATER = 100
DRAIN_PER_SECOND = 50.0
JSON_RETRIES = 3

_BUDGETS: dict[tuple[str, str], HttpAPIBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def shared_budget(config: IconikConfig) -> HttpAPIBudget:
    """One budget per (App-ID, token) for the whole process, whatever the number of clients."""
    key = (config.app_id, config.auth_token)
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = HttpAPIBudget(
                policies=[MovingWindowCallRatePolicy(rates=list(RATES), matchers=[])],
                ratelimit_remaining_header="RateLimit-Remaining",
            )
        return _BUDGETS[key]


class IconikClient:
    def __init__(self, config: IconikConfig, logger: logging.Logger | None = None, max_retries: int = 6,
                 backoff_base: float = 1.0, timeout: float = 60.0):
        self.config = config
        self.logger = logger or logging.getLogger("airbyte")
        self.headers = {"App-ID": config.app_id, "Auth-Token": config.auth_token, "Accept": "application/json"}
        self.calls: Counter = Counter()
        self._http = HttpClient(
            name="iconik",
            logger=self.logger,
            error_handler=IconikErrorHandler(self.logger, max_retries=max_retries),
            backoff_strategy=IconikBackoff(base=backoff_base),
            api_budget=shared_budget(config),
            request_timeout=timeout,
        )
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=64)
        self._http._session.mount("http://", adapter)
        self._http._session.mount("https://", adapter)
        self._throttle_lock = threading.Lock()

    def url(self, path: str) -> str:
        return urljoin(self.config.base_url + "/", path.lstrip("/"))

    # ---- one request ---------------------------------------------------------------------------------
    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Mapping[str, Any] | None = None, allow_404: bool = False) -> dict | None:
        """One call, retried by the CDK on 429/5xx/connection errors and here on malformed JSON.

        Returns None for a 404 when `allow_404` (iconik's "no values" / "page past the end" answer).
        """
        for attempt in range(1, JSON_RETRIES + 1):
            _, response = self._http.send_request(
                method, self.url(path), request_kwargs={}, headers=self.headers,
                params={k: str(v) for k, v in (params or {}).items()}, json=body,
            )
            self.calls[path.split("?")[0]] += 1
            self._throttle(response)
            if response.status_code == 404:
                if allow_404:
                    return None
                raise AirbyteTracedException(
                    message=f"iconik answered 404 Not Found for {path}: {_errors(response)}",
                    internal_message=f"404 for {method} {path}", failure_type=FailureType.system_error)
            try:
                return orjson.loads(response.content)  # 3-4x faster than json on big search pages
            except orjson.JSONDecodeError:
                pass  # let the standard parser decide (it also reads NaN and huge integers)
            try:
                return response.json()
            except (json.JSONDecodeError, requests.exceptions.JSONDecodeError):
                if attempt == JSON_RETRIES:
                    raise AirbyteTracedException(
                        message=f"iconik sent a malformed JSON body for {path} {JSON_RETRIES} times in a row.",
                        internal_message=f"malformed JSON from {method} {path}",
                        failure_type=FailureType.transient_error) from None
                self.logger.warning(f"Malformed JSON from {path}; retrying ({attempt}/{JSON_RETRIES}).")
                time.sleep(min(2.0, 0.2 * attempt))
        return None  # pragma: no cover

    def get(self, path: str, params: Mapping[str, Any] | None = None, allow_404: bool = False) -> dict | None:
        return self.request("GET", path, params, allow_404=allow_404)

    def post(self, path: str, params: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None) -> dict:
        return self.request("POST", path, params, body) or {}

    def _throttle(self, response: requests.Response) -> None:
        raw = response.headers.get("RateLimit-Remaining")
        if raw is None:
            return
        try:
            remaining = int(float(raw))
        except ValueError:
            return
        if remaining < LOW_WATER:
            with self._throttle_lock:  # one pause for all threads, not one each
                time.sleep((LOW_WATER - remaining) / DRAIN_PER_SECOND)

    # ---- lists ---------------------------------------------------------------------------------------
    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        """Every object of a list endpoint, following the relative `next_url` iconik returns.

        Works for numbered pages and `last_id` cursors alike; a 404 on a later page means the list ended
        (iconik answers 404 past the last page).
        """
        page = self.get(path, params, allow_404=True)
        while page:
            yield from page.get("objects") or []
            next_url = page.get("next_url")
            if not next_url:
                return
            page = self.get(next_url, None, allow_404=True)


def _errors(response: requests.Response) -> str:
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return response.text[:200]
    if isinstance(errors, list):
        return "; ".join(map(str, errors))
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {v}" for k, v in errors.items())
    return str(errors)
