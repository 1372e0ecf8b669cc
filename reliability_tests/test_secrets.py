"""Secrets (5): the token, the AWS keys and the webhook secret never appear in any output or written file."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iconik_emulator import EmulatorServer, LibraryConfig
from reliability_tests.helpers import Setup, catalog, messages, run_cli
from tools.pipeline import run_sync, write_json

TOKEN = "SECRETtok-3f9a1c7e5b2d8f60"
AWS_KEY = "AKIASECRET7Q2W9E4R"
AWS_SECRET = "SECRETaws+Zx81/Lm0Pq7Rs5Tu3Vw"
WEBHOOK = "SECRETwebhook-9d8c7b6a5f"
SECRETS = (TOKEN, AWS_KEY, AWS_SECRET, WEBHOOK)


def _scan_files(root: Path, skip: set[Path]) -> list[str]:
    leaks = []
    for path in root.rglob("*"):
        if path.is_file() and path not in skip:
            data = path.read_bytes()
            leaks += [f"{path}: {s[:10]}..." for s in SECRETS if s.encode() in data]
    return leaks


def _leaks(label: str, *texts: str) -> list[str]:
    return [f"{label}: {s[:10]}..." for s in SECRETS for text in texts if s in text]


def test_secrets_never_appear_in_output_logs_or_files(tmp_path):
    work_tmp = tmp_path / "process-tmp"  # the connectors' TMPDIR: their temp files land here
    work_tmp.mkdir()
    env = {"TMPDIR": str(work_tmp)}
    with EmulatorServer(LibraryConfig(assets=15, seed=2), rate_limit=False) as emu:
        emu.state.credentials[emu.app_id][TOKEN] = True  # iconik accepts the distinctive token
        setup = Setup(emu, tmp_path, source_extra={"auth_token": TOKEN}, destination_extra={
            "aws_access_key_id": AWS_KEY, "aws_secret_access_key": AWS_SECRET, "webhook_secret": WEBHOOK})
        configs = {setup.source, setup.destination}
        leaks: list[str] = []
        outputs = {}
        # spec, check, discover and read|write, all succeeding
        with ThreadPoolExecutor(3) as pool:
            calls = {
                "source spec": pool.submit(run_cli, "source-iconik", "spec", env=env),
                "destination spec": pool.submit(run_cli, "destination-bucket", "spec", env=env),
                "source check": pool.submit(run_cli, "source-iconik", "check", "--config", str(setup.source),
                                            env=env),
                "destination check": pool.submit(run_cli, "destination-bucket", "check", "--config",
                                                 str(setup.destination), env=env),
                "source discover": pool.submit(run_cli, "source-iconik", "discover", "--config",
                                               str(setup.source), env=env),
            }
            result = run_sync(setup.source, setup.destination, setup.catalog, env=env)
            outputs.update({label: call.result() for label, call in calls.items()})
        assert result.ok and result.records["assets"] == 15
        leaks += _leaks("read | write", result.source_log, result.destination_log, json.dumps(result.states))

        # failures quote config values: a rejected token, a config error, an unreachable S3 endpoint
        emu.state.credentials[emu.app_id].pop(TOKEN)
        outputs["source check 401"] = run_cli("source-iconik", "check", "--config", str(setup.source), env=env)
        failed = run_sync(setup.source, setup.destination, setup.catalog, env=env)
        assert not failed.ok
        leaks += _leaks("failed read | write", failed.source_log, failed.destination_log)
        spaced = write_json(tmp_path / "spaced.json", {**setup.source_cfg, "auth_token": f"{TOKEN} {TOKEN}"})
        configs.add(spaced)
        outputs["source read bad token"] = run_cli("source-iconik", "read", "--config", str(spaced), "--catalog",
                                                   str(catalog(tmp_path)), env=env)
        s3 = write_json(tmp_path / "s3.json", {"bucket_url": "s3://reliability-bucket/prefix",
                                               "endpoint_url": "http://127.0.0.1:9", "aws_access_key_id": AWS_KEY,
                                               "aws_secret_access_key": AWS_SECRET, "webhook_secret": WEBHOOK})
        configs.add(s3)
        outputs["destination check s3"] = run_cli("destination-bucket", "check", "--config", str(s3), env={
            **env, "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}, timeout=180)
        outputs["destination write bad config"] = run_cli(
            "destination-bucket", "write", "--config", str(write_json(tmp_path / "bad.json", {
                "bucket_url": "ftp://x", "aws_access_key_id": AWS_KEY, "aws_secret_access_key": AWS_SECRET,
                "webhook_secret": WEBHOOK})), "--catalog", str(setup.catalog), stdin=b"", env=env)
        configs.add(tmp_path / "bad.json")

    for label, done in outputs.items():
        leaks += _leaks(label, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))
    statuses = {label: [m["connectionStatus"]["status"] for m in messages(done.stdout.decode())
                        if m.get("type") == "CONNECTION_STATUS"] for label, done in outputs.items()}
    assert statuses["source check"] == ["SUCCEEDED"] and statuses["destination check"] == ["SUCCEEDED"]
    assert statuses["source check 401"] == ["FAILED"] and statuses["destination check s3"] == ["FAILED"]
    # every file the connectors wrote: the bucket (objects, media, summary, trash), temp files, anything else
    leaks += _scan_files(tmp_path, skip=configs)
    assert not leaks, leaks
    assert any((setup.bucket / "objects").rglob("object.json"))
