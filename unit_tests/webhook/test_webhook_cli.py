"""The console script: serving, and registering the webhook in iconik (against the emulator)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bench.webhook_load import receiver_process
from destination_bucket.config import parse_config
from destination_bucket.webhook import ReceiverServer, register
from iconik_emulator import EmulatorServer, LibraryConfig
from unit_tests.webhook.helpers import (
    SECRET,
    SHARED_HEADER,
    body_of,
    config,
    live,
    signed_headers,
    stored_asset,
    trashed,
    write_bucket,
)

BIN = Path(sys.executable).parent / "destination-bucket-webhook"


@pytest.fixture(scope="module")
def emu():
    with EmulatorServer(LibraryConfig(assets=6, seed=3), rate_limit=False) as server:
        yield server


def write_config(path: Path, raw: dict) -> Path:
    path.write_text(json.dumps(raw))
    return path


def test_register_creates_the_webhook_with_the_shared_secret_header(emu, bucket, tmp_path, capsys):
    asset_id = sorted(emu.state.lib.assets)[0]
    write_bucket(bucket, [stored_asset(asset_id), stored_asset("other")])
    path = write_config(tmp_path / "receiver.json", config(bucket))
    with ReceiverServer(parse_config(config(bucket))) as server:
        code = register(["--config", str(path), "--iconik-url", emu.base_url, "--app-id", emu.app_id,
                         "--auth-token", emu.auth_token, "--url", server.url])
        out = capsys.readouterr()
        assert code == 0, out.err
        printed = json.loads(out.out.strip().splitlines()[-1])
        assert printed["url"] == server.url and printed["event_type"] == "assets" and printed["realm"] == "entity"
        assert printed["headers"] == {SHARED_HEADER: "***"}
        assert SECRET not in out.out + out.err and emu.auth_token not in out.out + out.err
        listed = requests.get(f"{emu.base_url}/API/notifications/v1/webhooks/",
                              headers={"App-ID": emu.app_id, "Auth-Token": emu.auth_token}, timeout=10).json()
        ours = [w for w in listed["objects"] if w.get("url") == server.url]
        assert ours and ours[0]["headers"] == {SHARED_HEADER: SECRET} and ours[0]["status"] == "ENABLED"
        # iconik now calls the receiver with the header: a delete in iconik trashes the object
        emu.control.delete_asset(asset_id)
        deliveries = [d for d in emu.control.webhook_deliveries() if d["url"] == server.url]
        assert [d["status"] for d in deliveries] == [200]
    assert asset_id in trashed(bucket) and live(bucket) == {"other"}
    emu.state.webhook.targets.clear()


def test_register_one_webhook_per_operation(emu, bucket, tmp_path, capsys):
    path = write_config(tmp_path / "receiver.json", config(bucket))
    code = register(["--config", str(path), "--iconik-url", emu.base_url, "--app-id", emu.app_id,
                     "--auth-token", emu.auth_token, "--url", "http://127.0.0.1:9/webhooks/iconik",
                     "--operation", "delete", "--operation", "purge"])
    assert code == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [p["operation"] for p in printed] == ["delete", "purge"]
    emu.state.webhook.targets.clear()


def test_register_needs_the_shared_secret_header_and_valid_credentials(emu, bucket, tmp_path, capsys):
    no_header = write_config(tmp_path / "a.json", {"bucket_url": str(bucket), "webhook_secret": SECRET})
    args = ["--iconik-url", emu.base_url, "--app-id", emu.app_id, "--url", "http://x/webhooks/iconik"]
    assert register(["--config", str(no_header), "--auth-token", emu.auth_token, *args]) == 2
    assert "webhook_secret_header" in capsys.readouterr().err
    good = write_config(tmp_path / "b.json", config(bucket))
    bad_token = "not-the-token-123456"
    assert register(["--config", str(good), "--auth-token", bad_token, *args]) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err and bad_token not in err and SECRET not in err


def test_the_console_script_serves_the_receiver(bucket, tmp_path):
    write_bucket(bucket, [stored_asset("a1")])
    path = write_config(tmp_path / "receiver.json", config(bucket))
    with receiver_process(path) as url:
        assert requests.get(url.replace("/webhooks/iconik", "/healthz"), timeout=5).json()["status"] == "ok"
        payload = {"event_type": "assets", "realm": "entity", "operation": "delete", "object_id": "a1",
                   "data": {"id": "a1"}}
        body = body_of(payload)
        answer = requests.post(url, data=body, headers=signed_headers(body), timeout=5)
        assert answer.status_code == 200 and answer.json()["deleted_objects"] == ["objects/assets/a1"]
        assert requests.post(url, data=body, timeout=5).status_code == 401


def test_the_console_script_refuses_a_bad_config_readably(tmp_path):
    path = write_config(tmp_path / "bad.json", {"bucket_url": "./b", "webhook_secret": "short"})
    done = subprocess.run([str(BIN), "--config", str(path), "--port", "0"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "webhook_secret" in done.stderr and "Traceback" not in done.stderr
