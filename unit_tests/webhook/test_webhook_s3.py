"""The receiver on an S3 bucket (moto's S3 server on 127.0.0.1): same trash layout, fresh listings."""

from __future__ import annotations

import json

import pytest

from destination_bucket.config import parse_config
from destination_bucket.sync import SyncWriter
from destination_bucket.webhook import WebhookHandler
from unit_tests.destination.messages import catalog, full_stream
from unit_tests.s3_server import s3_bucket
from unit_tests.webhook.helpers import SECRET, event, proxy, stored_asset

KEY_ID, KEY_SECRET = "AKIDTESTWEBHOOK0001", "s3-secret-for-webhook-tests-0123"


@pytest.fixture(scope="module")
def s3():
    with s3_bucket("hooks", KEY_ID, KEY_SECRET) as server:
        yield server


def keys(client, prefix: str) -> set[str]:
    listing = client.list_objects_v2(Bucket="hooks", Prefix=prefix + "/")
    return {item["Key"][len(prefix) + 1:] for item in listing.get("Contents", [])}


def test_delete_and_restore_on_s3_see_objects_another_writer_added(s3):
    endpoint, client = s3
    raw = {"bucket_url": "s3://hooks/wh", "endpoint_url": endpoint, "aws_access_key_id": KEY_ID,
           "aws_secret_access_key": KEY_SECRET, "region": "us-east-1"}

    def sync(assets, proxies):
        writer = SyncWriter(parse_config(raw), catalog("assets", "proxies"))
        list(writer.run(iter(full_stream("assets", assets) + full_stream("proxies", proxies))))

    sync([stored_asset("a1"), stored_asset("a2")], [proxy("p1", "a1")])
    handler = WebhookHandler(parse_config({**raw, "webhook_secret": SECRET}))
    assert handler.handle(event("a2", "delete"))["deleted_objects"] == ["objects/assets/a2"]
    # another process (here boto3, past s3fs's listing cache) adds a proxy after the receiver listed
    document = {"stream": "proxies", "key": "p2", "record": proxy("p2", "a1"), "blobs": []}
    client.put_object(Bucket="hooks", Key="wh/objects/proxies/p2/object.json", Body=json.dumps(document).encode())
    answer = handler.handle(event("a1", "delete"))
    assert answer["deleted_objects"] == ["objects/assets/a1", "objects/proxies/p1", "objects/proxies/p2"]
    stored = keys(client, "wh")
    assert {"_trash/assets/a1/object.json", "_trash/assets/a1/_deleted.json",
            "_trash/proxies/p2/object.json"} <= stored
    assert not any(k.startswith("objects/assets/a1/") for k in stored)
    assert handler.handle(event("a1", "restore"))["deleted_objects"] == []
    stored = keys(client, "wh")
    assert "objects/assets/a1/object.json" in stored and "objects/proxies/p2/object.json" in stored
    assert not any(k.startswith("_trash/assets/a1/") for k in stored)
