"""The Airbyte protocol side: spec, check, config errors, STATE echo, and the console script itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from airbyte_cdk.models import Status

from destination_bucket import DestinationBucket
from destination_bucket.config import parse_config
from destination_bucket.sync import SyncWriter
from unit_tests.destination.messages import asset, catalog, dump, full_stream, record, state, status

BIN = Path(sys.executable).parent / "destination-bucket"


def run_cli(tmp_path, args, config=None, stdin="", cat=None, timeout=60):
    cmd = [str(BIN), *args]
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
        cmd += ["--config", str(tmp_path / "config.json")]
    if cat is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(cat))
        cmd += ["--catalog", str(tmp_path / "catalog.json")]
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done, messages


def test_state_is_echoed_after_its_records_with_destination_stats_and_unknown_fields_kept(bucket, media):
    rows = [asset(f"a{i}", url=media.url(f"s{i}.mp4", 20_000)) for i in range(6)]
    messages = [record("assets", r) for r in rows[:4]]
    messages.append(state("assets", {"date_modified": "2026-01-01"}, id=42, future_field={"x": 1}))
    messages += [record("assets", r) for r in rows[4:]] + [state("assets", {"date_modified": "2026-02-01"})]
    writer = SyncWriter(parse_config({"bucket_url": str(bucket), "download_concurrency": 4}), catalog("assets"))
    out = writer.run(iter(messages + [status("assets")]))
    first = next(out)
    assert all((bucket / f"objects/assets/a{i}/a{i}.mp4").stat().st_size == 20_000 for i in range(4))
    assert first["state"]["destinationStats"] == {"recordCount": 4.0}
    assert first["state"]["id"] == 42 and first["state"]["future_field"] == {"x": 1}
    assert first["state"]["sourceStats"] == {"recordCount": 1.0}
    second = next(out)
    assert second["state"]["destinationStats"] == {"recordCount": 2.0}
    assert second["state"]["stream"]["stream_state"] == {"date_modified": "2026-02-01"}


def test_spec_is_valid_and_every_secret_is_marked():
    spec = DestinationBucket().spec(None)
    props = spec.connectionSpecification["properties"]
    assert {"append", "append_dedup", "overwrite"} <= {m.value for m in spec.supported_destination_sync_modes}
    for name in ("aws_access_key_id", "aws_secret_access_key", "webhook_secret"):
        assert props[name]["airbyte_secret"] is True
    assert all("order" in p and "title" in p and "description" in p for p in props.values())


def test_check_succeeds_on_a_writable_folder_and_leaves_nothing(bucket):
    result = DestinationBucket().check(None, {"bucket_url": str(bucket)})
    assert result.status == Status.SUCCEEDED
    assert not list((bucket / "_meta").glob("check-*"))


def test_check_fails_clearly_when_the_bucket_is_not_writable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = DestinationBucket().check(None, {"bucket_url": str(blocker / "bucket")})
    assert result.status == Status.FAILED
    assert "Could not open the bucket" in result.message or "Could not write" in result.message
    result = DestinationBucket().check(None, {"bucket_url": "ftp://host/x"})
    assert result.status == Status.FAILED and "unsupported scheme" in result.message


@pytest.mark.parametrize("config, field", [
    ({"bucket_url": ""}, "bucket_url"),
    ({"bucket_url": "s3://"}, "bucket_url"),
    ({"bucket_url": "./b", "max_delete_fraction": 2}, "max_delete_fraction"),
    ({"bucket_url": "./b", "delete_grace_period_hours": -1}, "delete_grace_period_hours"),
    ({"bucket_url": "./b", "download_concurrency": 0}, "download_concurrency"),
    ({"bucket_url": "./b", "download_concurrency": 2.5}, "download_concurrency"),
    ({"bucket_url": "./b", "bucket": "typo"}, "bucket"),
    ({"bucket_url": "s3://b/p", "aws_access_key_id": "AKIA"}, "aws_secret_access_key"),
    ({"bucket_url": "s3://b/p", "endpoint_url": "localhost:9000"}, "endpoint_url"),
    ({"bucket_url": "./b", "file_url_field": " "}, "file_url_field"),
    ({"bucket_url": "./b", "webhook_secret": "short"}, "webhook_secret"),
])
def test_bad_config_is_one_readable_config_error_naming_the_field(config, field):
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException
    with pytest.raises(AirbyteTracedException) as error:
        parse_config(config)
    assert field in error.value.message and error.value.failure_type.value == "config_error"


def test_cli_spec_check_and_write_round_trip(tmp_path):
    bucket = tmp_path / "bucket"
    done, messages = run_cli(tmp_path, ["spec"])
    assert done.returncode == 0 and messages[-1]["type"] == "SPEC"
    done, messages = run_cli(tmp_path, ["check"], {"bucket_url": str(bucket)})
    assert [m["connectionStatus"]["status"] for m in messages if m["type"] == "CONNECTION_STATUS"] == ["SUCCEEDED"]
    stdin = dump(full_stream("assets", [asset("x1"), asset("x2")], {"date_modified": "2026"}))
    done, messages = run_cli(tmp_path, ["write"], {"bucket_url": str(bucket)}, stdin, catalog("assets"))
    assert done.returncode == 0, done.stderr
    states = [m for m in messages if m["type"] == "STATE"]
    assert len(states) == 1 and states[0]["state"]["destinationStats"]["recordCount"] == 2.0
    assert sorted(p.name for p in (bucket / "objects/assets").iterdir()) == ["x1", "x2"]


def test_cli_bad_config_is_a_config_error_trace_without_stack_trace_or_secret(tmp_path):
    secret = "SECRET-aws-key-9f8e7d6c5b4a"
    config = {"bucket_url": "s3://b/p", "aws_access_key_id": secret, "aws_secret_access_key": secret + "x",
              "max_delete_fraction": 5}
    done, messages = run_cli(tmp_path, ["write"], config, "", catalog("assets"))
    assert done.returncode != 0
    traces = [m["trace"] for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert traces and traces[0]["error"]["failure_type"] == "config_error"
    assert "max_delete_fraction" in traces[0]["error"]["message"]
    assert "Traceback" not in done.stderr and "Traceback" not in traces[0]["error"]["message"]
    assert secret not in done.stdout + done.stderr


def test_killed_mid_download_leaves_no_half_object(tmp_path, media):
    bucket = tmp_path / "bucket"
    (tmp_path / "config.json").write_text(json.dumps({"bucket_url": str(bucket)}))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog("assets")))
    stdin = dump(full_stream("assets", [asset("k1", url=media.url("k1.mp4", 400_000, kind="slow"))]))
    proc = subprocess.Popen([str(BIN), "write", "--config", str(tmp_path / "config.json"), "--catalog",
                             str(tmp_path / "catalog.json")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    proc.stdin.write(stdin.encode())
    proc.stdin.close()
    deadline = time.time() + 30
    while time.time() < deadline and media.hits["/slow/k1.mp4"] == 0:
        time.sleep(0.05)
    time.sleep(1.0)  # the body trickles for about 5 s: kill in the middle of it
    os.killpg(proc.pid, signal.SIGKILL)
    out = proc.stdout.read().decode()
    proc.wait()
    assert '"STATE"' not in out, "no state was echoed for an unfinished object"
    assert not (bucket / "objects").exists() or not any((bucket / "objects").rglob("*.*")), \
        "neither the partial file nor object.json is visible as an object"
