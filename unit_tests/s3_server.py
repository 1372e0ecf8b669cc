"""A real S3-protocol server (moto's standalone server) on 127.0.0.1 for the bucket tests."""

from __future__ import annotations

import contextlib

import pytest

from iconik_emulator.server import free_port


@contextlib.contextmanager
def s3_bucket(bucket: str, key_id: str, secret: str):
    """Start the server, create `bucket`, yield (endpoint URL, boto3 client); stop the server after."""
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret,
                              region_name="us-east-1")
        client.create_bucket(Bucket=bucket)
        yield endpoint, client
    finally:
        server.stop()
