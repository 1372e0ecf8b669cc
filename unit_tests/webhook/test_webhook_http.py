"""The HTTP contract of the receiver: verification, status codes, response shape, no secret leaks."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest
from starlette.testclient import TestClient

from destination_bucket.config import parse_config
from destination_bucket.webhook import SIGNATURE_HEADER, WEBHOOK_PATH, create_app, verify
from unit_tests.webhook.helpers import (
    SECRET,
    SHARED_HEADER,
    body_of,
    client,
    event,
    post,
    signed_headers,
    stored_asset,
    write_bucket,
)

RESPONSE_KEYS = {"received", "event_type", "handled", "asset_id", "deleted_objects"}


@pytest.fixture
def app_client(bucket):
    write_bucket(bucket, [stored_asset("a1"), stored_asset("a2")])
    return client(bucket)


def test_healthz(app_client):
    response = app_client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.mark.parametrize("method, path", [("POST", "/webhooks/other"), ("GET", "/nope"), ("POST", "/webhooks")])
def test_unknown_path_is_404(app_client, method, path):
    response = app_client.request(method, path, content=b"{}")
    assert response.status_code == 404 and response.json()["received"] is False


def test_no_secret_configured_is_400(bucket):
    app = TestClient(create_app(parse_config({"bucket_url": str(bucket)})))
    body = body_of(event("a1", "delete"))
    response = app.post(WEBHOOK_PATH, content=body, headers=signed_headers(body))
    assert response.status_code == 400 and "webhook_secret" in response.json()["error"]


def test_signed_event_is_200_with_the_documented_body(app_client, bucket):
    response = post(app_client, event("a1", "delete"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == RESPONSE_KEYS
    assert body == {"received": True, "event_type": "assets.delete", "handled": True, "asset_id": "a1",
                    "deleted_objects": ["objects/assets/a1"]}


@pytest.mark.parametrize("headers, reason", [
    ({}, "signature missing"),
    ({SIGNATURE_HEADER: "zz" * 32}, "signature malformed"),
    ({SIGNATURE_HEADER: "abc"}, "signature malformed"),
    ({SIGNATURE_HEADER: "0" * 64}, "signature wrong"),
    ({SHARED_HEADER: "not-the-secret"}, "wrong shared secret"),
])
def test_missing_malformed_or_wrong_signature_is_401(app_client, bucket, headers, reason):
    response = app_client.post(WEBHOOK_PATH, content=body_of(event("a1", "delete")), headers=headers)
    assert response.status_code == 401 and response.json()["error"] == reason
    assert (bucket / "objects/assets/a1/object.json").exists(), "nothing applied"


def test_signature_of_another_body_or_secret_is_401(app_client):
    body = body_of(event("a1", "delete"))
    other = signed_headers(body + b" ")
    assert app_client.post(WEBHOOK_PATH, content=body, headers=other).status_code == 401
    wrong_key = signed_headers(body, secret="another-secret-value")
    assert app_client.post(WEBHOOK_PATH, content=body, headers=wrong_key).status_code == 401


def test_signature_forms_and_shared_secret_header_are_accepted(app_client):
    body = body_of(event("a1", "create"))
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    for value in (digest, digest.upper(), f"sha256={digest}"):
        assert app_client.post(WEBHOOK_PATH, content=body, headers={SIGNATURE_HEADER: value}).status_code == 200
    # iconik's custom webhook header (header names are case-insensitive)
    for name in (SHARED_HEADER, SHARED_HEADER.lower()):
        assert app_client.post(WEBHOOK_PATH, content=body, headers={name: SECRET}).status_code == 200


def test_shared_header_is_refused_when_not_configured(bucket):
    app = client(bucket, webhook_secret_header=None)
    body = body_of(event("a1", "create"))
    assert app.post(WEBHOOK_PATH, content=body, headers={SHARED_HEADER: SECRET}).status_code == 401


def test_body_over_the_limit_is_413(bucket):
    app = TestClient(create_app(parse_config({"bucket_url": str(bucket), "webhook_secret": SECRET}),
                                max_body_bytes=1000))
    payload = event("a1", "update", {"id": "a1", "title": "x" * 2000})
    response = post(app, payload)
    assert response.status_code == 413
    body = body_of(payload)

    def chunks():  # no Content-Length: the limit holds on the stream too
        for start in range(0, len(body), 256):
            yield body[start:start + 256]

    response = app.post(WEBHOOK_PATH, content=chunks(), headers=signed_headers(body))
    assert response.status_code == 413


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_invalid_json_or_not_an_object_is_400(app_client, body):
    response = app_client.post(WEBHOOK_PATH, content=body, headers=signed_headers(body))
    assert response.status_code == 400


def test_get_on_the_webhook_path_is_405(app_client):
    assert app_client.get(WEBHOOK_PATH).status_code == 405


def test_secrets_never_in_responses_or_logs(bucket, caplog):
    write_bucket(bucket, [stored_asset("a1")])
    app = client(bucket)
    caplog.set_level(logging.DEBUG)
    seen = []
    for headers in ({}, {SHARED_HEADER: "wrong"}, {SHARED_HEADER: SECRET}, {SIGNATURE_HEADER: "0" * 64}):
        seen.append(app.post(WEBHOOK_PATH, content=body_of(event("a1", "delete")), headers=headers).text)
    seen.append(post(app, event("a1", "restore")).text)
    seen.append(app.get("/healthz").text)
    assert all(SECRET not in text for text in seen)
    assert SECRET not in caplog.text
    assert SECRET not in repr(parse_config({"bucket_url": str(bucket), "webhook_secret": SECRET}))


def test_verify_rejects_everything_without_a_secret_header_match():
    config = parse_config({"bucket_url": "./b", "webhook_secret": SECRET})
    body = json.dumps({"a": 1}).encode()
    assert verify(config, {SIGNATURE_HEADER: hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}, body) is None
    assert verify(config, {SHARED_HEADER: SECRET}, body) == "signature missing"  # header not configured


def test_a_bucket_error_is_500_and_safe_to_retry(app_client, bucket, monkeypatch, caplog):
    handler = app_client.app.state.handler
    caplog.set_level(logging.INFO)

    def broken(*args, **kwargs):
        raise OSError(f"disk full while using {SECRET}")

    monkeypatch.setattr(handler, "_on_delete", broken)
    response = post(app_client, event("a1", "delete"))
    assert response.status_code == 500 and SECRET not in response.text
    assert "disk full" in caplog.text and SECRET not in caplog.text
    monkeypatch.undo()
    assert post(app_client, event("a1", "delete")).json()["deleted_objects"] == ["objects/assets/a1"]


def test_hostile_asset_ids_stay_inside_the_bucket(app_client, bucket):
    for asset_id in ("../../outside", "/etc/passwd", "..", "a/../../b"):
        response = post(app_client, event(asset_id, "delete"))
        assert response.status_code == 200 and response.json()["deleted_objects"] == []
    assert sorted(p.name for p in bucket.parent.iterdir()) == ["bucket"]
