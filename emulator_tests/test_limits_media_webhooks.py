"""Rate limiting (leaky bucket 1000 / 50 per s), signed media, seeded faults and webhook delivery."""

from __future__ import annotations

import http.client
import json
import queue
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests

from emulator_tests.helpers import Api, start_cli_emulator, stop
from iconik_emulator import DEFAULT_APP_ID, DEFAULT_AUTH_TOKEN, NON_ADMIN_AUTH_TOKEN

HEADERS = {"App-ID": DEFAULT_APP_ID, "Auth-Token": DEFAULT_AUTH_TOKEN}
CHEAP = "/API/auth/v1/auth/token/"


# ---- rate limit ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def limited():
    """A rate-limited emulator in its own process, so a burst is not slowed by this process's GIL."""
    process, base_url = start_cli_emulator("--assets", "20", "--seed", "3", "--rate-limit", "on")
    try:
        yield base_url
    finally:
        stop(process)


def _burst(base_url: str, count: int, threads: int = 8, headers: dict = HEADERS) -> list[tuple[int, dict]]:
    """`count` requests as fast as `threads` keep-alive connections can send them: [(status, headers)]."""
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    tickets = iter(range(count))
    lock = threading.Lock()
    results: list[tuple[int, dict]] = []

    def worker() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            with lock:
                if next(tickets, None) is None:
                    break
            connection.request("GET", CHEAP, headers=headers)
            response = connection.getresponse()
            body = response.read()
            with lock:
                results.append((response.status, {k.lower(): v for k, v in response.getheaders()} | {"body": body}))
        connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def _steady(base_url: str, rate: float, seconds: float) -> list[int]:
    """Requests at a fixed rate from one keep-alive session, each at its scheduled instant."""
    session = requests.Session()
    session.headers.update(HEADERS)
    statuses = []
    start = time.monotonic()
    for k in range(int(rate * seconds)):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        statuses.append(session.get(base_url + CHEAP, timeout=10).status_code)
    return statuses


def _control(base_url: str, name: str, **body):
    response = requests.post(f"{base_url}/_emulator/{name}", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_burst_sees_429_with_retry_after_then_45_per_second_sees_none(limited):
    # A signed URL fetched before the bucket fills, for the media check at the end.
    proxy_owner = requests.get(f"{limited}/API/assets/v1/assets/", params={"per_page": 20}, headers=HEADERS,
                               timeout=10).json()["objects"]
    urls = [p["url"] for a in proxy_owner for p in requests.get(
        f"{limited}/API/files/v1/assets/{a['id']}/proxies/", headers=HEADERS, timeout=10).json()["objects"]]
    assert urls
    _control(limited, "set_limits", rate_limit=True)  # also empties the bucket
    _control(limited, "reset_counters")

    started = time.monotonic()
    results = _burst(limited, 1100)
    elapsed = time.monotonic() - started
    allowed = [h for s, h in results if s == 200]
    limited_ = [h for s, h in results if s == 429]
    assert len(results) == 1100 and len(allowed) + len(limited_) == 1100
    assert limited_, f"no 429 in a burst of 1,100 requests over {elapsed:.2f} s"
    # Leaky bucket: capacity 1000, draining 50/s. Never fewer than 1000 nor more than the drain allows.
    assert 1000 <= len(allowed) <= 1000 + 50 * elapsed + 1
    for headers in limited_:
        assert headers["retry-after"].isdigit() and 1 <= int(headers["retry-after"]) <= 20
        assert headers["ratelimit-remaining"] == "0"
        assert json.loads(headers["body"])["errors"]
    remaining = sorted(int(h["ratelimit-remaining"]) for h in allowed)
    assert remaining[0] <= 5 and remaining[-1] >= 990  # counts down from the capacity
    counters = _control(limited, "counters")
    assert counters["status"].get("429") == len(limited_) and counters["status"].get("200") == len(allowed)

    # The bucket is now full; 45/s (below the 50/s drain) keeps every request under the limit.
    time.sleep(0.1)
    statuses = _steady(limited, 45, 3)
    assert len(statuses) == 135 and set(statuses) == {200}, statuses

    # Throttled again when too fast; Retry-After can be switched off.
    _control(limited, "set_limits", retry_after=False)  # (this also empties the bucket)
    over = _burst(limited, 1200)
    assert any(s == 429 for s, _ in over)
    assert all("retry-after" not in h for s, h in over if s == 429)
    _control(limited, "set_limits", retry_after=True)

    # Another token has its own bucket.
    other = _burst(limited, 5, threads=1, headers={"App-ID": DEFAULT_APP_ID, "Auth-Token": NON_ADMIN_AUTH_TOKEN})
    assert [s for s, _ in other] == [200] * 5

    # Media requests are neither limited nor counted: all served while a burst is being throttled.
    before = _control(limited, "counters")["total"]
    hammer: list = []
    thread = threading.Thread(target=lambda: hammer.extend(_burst(limited, 1300, threads=6)))
    thread.start()
    media = requests.Session()
    media_statuses = [media.get(url, timeout=10).status_code for url in urls * 3]
    thread.join()
    assert set(media_statuses) == {200}
    assert any(s == 429 for s, _ in hammer)
    assert _control(limited, "counters")["total"] == before + 1300


# ---- signed media ---------------------------------------------------------------------------------------------
@pytest.fixture
def media_api(fresh_emu) -> Api:
    return Api(fresh_emu)


def _proxy_url(api: Api) -> tuple[str, str]:
    lib = api.emu.state.lib
    asset_id = next(a for a in sorted(lib.assets) if lib.proxies.get(a) and lib.files.get(a))
    return asset_id, api.ok(f"/API/files/v1/assets/{asset_id}/proxies/")["objects"][0]["url"]


def test_signed_urls_serve_bytes_and_honour_range(media_api):
    asset_id, url = _proxy_url(media_api)
    truth = media_api.emu.truth
    expected = truth.media_bytes(url)
    assert len(expected) == 4096 and expected == truth.file_bytes(truth.proxies(asset_id)[0]["id"], 4096)
    full = requests.get(url, timeout=10)  # no App-ID / Auth-Token: the signature is the credential
    assert full.status_code == 200 and full.content == expected
    assert full.headers["Accept-Ranges"] == "bytes" and full.headers["Content-Length"] == "4096"
    for header, status, content_range, chunk in (
            ("bytes=100-199", 206, "bytes 100-199/4096", expected[100:200]),
            ("bytes=4000-", 206, "bytes 4000-4095/4096", expected[4000:]),
            ("bytes=-10", 206, "bytes 4086-4095/4096", expected[-10:]),
            ("bytes=4000-9999", 206, "bytes 4000-4095/4096", expected[4000:])):
        part = requests.get(url, headers={"Range": header}, timeout=10)
        assert (part.status_code, part.headers["Content-Range"], part.content) == (status, content_range, chunk)
    assert requests.get(url, headers={"Range": "bytes=5000-"}, timeout=10).status_code == 416
    head = requests.head(url, timeout=10)
    assert head.status_code == 200 and head.headers["Content-Length"] == "4096"
    # The original file via download_url: twice the media size.
    file_id = media_api.emu.truth.original_file(asset_id)["id"]
    file_url = media_api.ok(f"/API/files/v1/assets/{asset_id}/files/{file_id}/download_url/")["url"]
    original = requests.get(file_url, timeout=10)
    assert original.status_code == 200 and original.content == truth.media_bytes(file_url)
    assert len(original.content) == 8192


def test_tampered_signature_is_403(media_api):
    _, url = _proxy_url(media_api)
    tampered = re.sub(r"sig=([0-9a-f])", lambda m: "sig=" + ("0" if m.group(1) != "0" else "1"), url)
    assert tampered != url
    response = requests.get(tampered, timeout=10)
    assert response.status_code == 403 and b"SignatureDoesNotMatch" in response.content


def test_signed_urls_expire_with_403(media_api):
    media_api.emu.control.set_url_ttl(2)
    _, url = _proxy_url(media_api)
    assert requests.get(url, timeout=10).status_code == 200
    time.sleep(2.05)
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 403 and b"ExpiredToken" in expired.content
    # A fresh URL for the same proxy works again.
    media_api.emu.control.set_url_ttl(3600)
    _, again = _proxy_url(media_api)
    assert requests.get(again, timeout=10).status_code == 200


# ---- faults ---------------------------------------------------------------------------------------------------
def _statuses(api: Api, n: int = 40) -> list[int]:
    return [api.get("/API/users/v1/users/current/").status_code for _ in range(n)]


def test_faults_are_reproducible_by_seed(fresh_emu):
    api = Api(fresh_emu)
    control = fresh_emu.control
    control.set_faults(seed=42, error_rate=0.3)
    first = _statuses(api)
    control.set_faults(seed=42)  # re-seeds: the same sequence again
    assert _statuses(api) == first
    assert set(first) - {200} and set(first) <= {200, 500, 502, 503}
    assert 3 <= sum(s != 200 for s in first) <= 25
    control.set_faults(seed=43)
    assert _statuses(api) != first
    control.set_faults(error_rate=0.0, burst_429=3)
    assert _statuses(api, 5) == [429, 429, 429, 200, 200]
    control.set_faults(truncate_rate=1.0)
    truncated = api.get("/API/users/v1/users/current/")
    with pytest.raises(ValueError):
        truncated.json()
    control.set_faults(truncate_rate=0.0, reset_rate=1.0)
    with pytest.raises(requests.exceptions.RequestException):
        api.get("/API/users/v1/users/current/").json()
    control.set_faults(reset_rate=0.0)
    assert Api(fresh_emu).get("/API/users/v1/users/current/").status_code == 200


# ---- webhooks -------------------------------------------------------------------------------------------------
@pytest.fixture
def receiver():
    """A tiny HTTP receiver on 127.0.0.1 recording every POST: yields (url, queue of (headers, json)).

    A POST to a path ending in /slow is answered after 0.3 s.
    """
    received: queue.Queue = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.put(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
            if self.path.endswith("/slow"):
                time.sleep(0.3)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _take(received: queue.Queue, n: int) -> list[tuple[dict, dict]]:
    return [received.get(timeout=5) for _ in range(n)]


def test_webhooks_delivered_with_custom_headers_on_delete_and_restore(fresh_emu, receiver):
    url, received = receiver
    control = fresh_emu.control
    asset_id = sorted(fresh_emu.state.lib.assets)[0]
    control.set_webhook(url, {"X-Shared-Secret": "s3cr3t", "S3_BUCKET_NAME": "iconik-examples"})
    control.delete_asset(asset_id)
    control.restore_asset(asset_id)
    deliveries = _take(received, 2)
    user = Api(fresh_emu).ok("/API/users/v1/users/current/")
    for (headers, payload), operation, status in zip(deliveries, ("delete", "restore"), ("DELETED", "ACTIVE"),
                                                     strict=True):
        assert headers["x-shared-secret"] == "s3cr3t" and headers["s3_bucket_name"] == "iconik-examples"
        assert headers["content-type"] == "application/json"
        assert payload["operation"] == operation and payload["object_id"] == asset_id
        assert (payload["event_type"], payload["realm"]) == ("assets", "entity")
        assert payload["data"]["id"] == asset_id and payload["data"]["status"] == status
        assert payload["user_id"] == user["id"] and payload["system_domain_id"] == user["system_domain_id"]
        assert re.fullmatch(r"[0-9a-f]{32}", payload["request_id"])
        assert not any("signature" in k for k in headers)  # iconik does not sign webhooks
    assert deliveries[0][1]["data"]["date_deleted"] and deliveries[1][1]["data"]["date_deleted"] is None
    assert deliveries[0][1]["request_id"] != deliveries[1][1]["request_id"]
    assert [d["status"] for d in control.webhook_deliveries()] == [200, 200]
    assert received.empty()


def test_webhook_registered_through_the_api_gets_its_headers(fresh_emu, receiver):
    url, received = receiver
    api = Api(fresh_emu)
    created = api.post("/API/notifications/v1/webhooks/", json={
        "url": url, "event_type": "assets", "headers": {"AUTH-TOKEN": "XYZ"}})
    assert created.status_code == 201
    disabled = api.post("/API/notifications/v1/webhooks/", json={
        "url": url, "event_type": "assets", "status": "DISABLED", "headers": {"AUTH-TOKEN": "disabled"}})
    assert disabled.status_code == 201
    assert api.post("/API/notifications/v1/webhooks/", json={"event_type": "assets"}).status_code == 400
    asset_id = sorted(fresh_emu.state.lib.assets)[1]
    fresh_emu.control.delete_asset(asset_id)
    fresh_emu.control.purge_asset(asset_id)
    deliveries = _take(received, 2)
    assert [p["operation"] for _, p in deliveries] == ["delete", "purge"]
    assert all(h["auth-token"] == "XYZ" for h, _ in deliveries)  # only the enabled webhook fires
    assert deliveries[1][1]["data"] == {"id": asset_id}
    assert api.get(f"/API/assets/v1/assets/{asset_id}/").status_code == 404
    time.sleep(0.2)
    assert received.empty()


def test_webhook_deliveries_waits_for_the_delivery_in_flight(fresh_emu, receiver):
    url, received = receiver
    fresh_emu.control.set_webhook(url + "/slow", {"X-Slow": "1"})
    fresh_emu.control.delete_asset(sorted(fresh_emu.state.lib.assets)[2])
    deliveries = fresh_emu.control.webhook_deliveries()  # blocks until sent, answer included
    assert [(d["status"], d["payload"]["operation"]) for d in deliveries] == [(200, "delete")]
    assert _take(received, 1)[0][0]["x-slow"] == "1"
