"""The S3 path, against a real S3-protocol server (moto's standalone server) on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json

import pytest
from airbyte_cdk.models import Status

from destination_bucket import DestinationBucket
from destination_bucket.config import parse_config
from destination_bucket.sync import SyncWriter
from unit_tests.destination.conftest import media_bytes
from unit_tests.destination.messages import asset, catalog, full_stream, proof, tombstone
from unit_tests.s3_server import s3_bucket

KEY_ID, SECRET = "AKIDTESTBUCKET0001", "s3-secret-for-tests-0123456789"


@pytest.fixture(scope="module")
def s3():
    with s3_bucket("media", KEY_ID, SECRET) as server:
        yield server


def config(endpoint: str, prefix: str, **extra) -> dict:
    return {"bucket_url": f"s3://media/{prefix}", "endpoint_url": endpoint, "aws_access_key_id": KEY_ID,
            "aws_secret_access_key": SECRET, "region": "us-east-1", **extra}


def keys(client, prefix: str) -> set[str]:
    listing = client.list_objects_v2(Bucket="media", Prefix=prefix + "/")
    return {item["Key"][len(prefix) + 1:] for item in listing.get("Contents", [])}


def test_check_writes_reads_and_removes_a_probe_on_s3(s3):
    endpoint, client = s3
    assert DestinationBucket().check(None, config(endpoint, "checked")).status == Status.SUCCEEDED
    assert keys(client, "checked") == set()
    wrong = config(endpoint, "x", aws_secret_access_key="wrong-secret")
    result = DestinationBucket().check(None, {**wrong, "bucket_url": "s3://no-such-bucket/x"})
    assert result.status == Status.FAILED and "no-such-bucket" in result.message


def test_objects_files_and_soft_deletes_on_s3(s3, media):
    endpoint, client = s3
    parsed = parse_config(config(endpoint, "sync"))
    rows = [asset(f"s{i}", url=media.url(f"s{i}.mov", 70_000)) for i in range(3)]
    list(SyncWriter(parsed, catalog("assets")).run(full_stream("assets", rows)))
    assert keys(client, "sync") >= {f"objects/assets/s{i}/{name}" for i in range(3)
                                    for name in ("object.json", f"s{i}.mp4")}
    body = client.get_object(Bucket="media", Key="sync/objects/assets/s1/s1.mp4")["Body"].read()
    assert body == media_bytes("s1.mov", 70_000)
    doc = json.loads(client.get_object(Bucket="media", Key="sync/objects/assets/s1/object.json")["Body"].read())
    assert doc["blobs"][0]["sha256"] == hashlib.sha256(body).hexdigest()
    assert not any(k.startswith("_tmp/") for k in keys(client, "sync")), "temp keys are moved, not left"

    list(SyncWriter(parsed, catalog("deleted_assets")).run(full_stream("deleted_assets", [tombstone("s0")])))
    after = keys(client, "sync")
    assert "_trash/assets/s0/object.json" in after and "objects/assets/s0/object.json" not in after
    messages = full_stream("asset_inventory", [{"id": "s0"}, {"id": "s1"}], proof(2))
    list(SyncWriter(parse_config(config(endpoint, "sync", max_delete_fraction=0.5)), catalog("asset_inventory"))
         .run(messages))
    after = keys(client, "sync")
    assert "objects/assets/s0/object.json" in after, "revived from the inventory"
    assert "_trash/assets/s2/object.json" in after, "swept: absent from the complete inventory"
