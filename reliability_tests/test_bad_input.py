"""Bad input: malformed configs, states and API bodies give one readable error, never a stack trace.

Every config case runs the connector's console script: `source-iconik check` plus `read` or `discover`,
`destination-bucket check` plus `write`. The fast variant forks the console-script entry point from one
warm interpreter (reliability_tests/forkrun.py) and runs a sample through the real executables; SOAK=1
runs every case through the real executables.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from iconik_emulator import EmulatorServer, Faults, LibraryConfig
from reliability_tests.helpers import SOAK, Setup, messages, run_cli

APP_ID = "5f0c4b8e-6a1d-11ef-9c2a-0242ac120002"
TOKEN = "a-valid-looking-token-0123456789"
GOOD_SOURCE = {"app_id": APP_ID, "auth_token": TOKEN, "base_url": "http://127.0.0.1:9"}
DROP = object()  # a field removed from the good config

# (case id, changes to the good config, the field the error must name)
SOURCE_CASES = [
    ("token-empty", {"auth_token": ""}, "auth_token"),
    ("token-whitespace", {"auth_token": "    \t "}, "auth_token"),
    ("token-short", {"auth_token": "abc"}, "auth_token"),
    ("token-inner-space", {"auth_token": "abcd efgh ijkl"}, "auth_token"),
    ("token-missing", {"auth_token": DROP}, "auth_token"),
    ("token-number", {"auth_token": 123456789012}, "auth_token"),
    ("app-id-not-uuid", {"app_id": "not-a-uuid"}, "app_id"),
    ("app-id-empty", {"app_id": ""}, "app_id"),
    ("app-id-missing", {"app_id": DROP}, "app_id"),
    ("app-id-list", {"app_id": [APP_ID]}, "app_id"),
    ("url-ftp", {"base_url": "ftp://app.iconik.io"}, "base_url"),
    ("url-file", {"base_url": "file:///etc/passwd"}, "base_url"),
    ("url-javascript", {"base_url": "javascript:alert(1)"}, "base_url"),
    ("url-http-remote", {"base_url": "http://app.iconik.io"}, "base_url"),
    ("url-credentials", {"base_url": "https://user:pw@app.iconik.io"}, "base_url"),
    ("url-not-a-url", {"base_url": "app dot iconik"}, "base_url"),
    ("url-number", {"base_url": 443}, "base_url"),
    ("page-size-zero", {"page_size": 0}, "page_size"),
    ("page-size-negative", {"page_size": -5}, "page_size"),
    ("page-size-huge", {"page_size": 10**12}, "page_size"),
    ("page-size-string", {"page_size": "100"}, "page_size"),
    ("page-size-float", {"page_size": 2.5}, "page_size"),
    ("concurrency-zero", {"concurrency": 0}, "concurrency"),
    ("concurrency-huge", {"concurrency": 100000}, "concurrency"),
    ("depth-negative", {"max_collection_depth": -1}, "max_collection_depth"),
    ("lookback-huge", {"lookback_window_seconds": 10**15}, "lookback_window_seconds"),
    ("lookback-bool", {"lookback_window_seconds": True}, "lookback_window_seconds"),
    ("glob-open-bracket", {"path_patterns": ["Archive/[abc"]}, "path_patterns"),
    ("glob-close-bracket", {"path_patterns": ["x]]"]}, "path_patterns"),
    ("glob-empty", {"path_patterns": [""]}, "path_patterns"),
    ("glob-not-string", {"path_patterns": [{"a": 1}]}, "path_patterns"),
    ("status-unknown", {"status": ["ARCHIVED_FOREVER"]}, "status"),
    ("status-empty-list", {"status": []}, "status"),
    ("status-injection", {"status": "ACTIVE; DROP TABLE"}, "status"),
    ("start-date-words", {"start_date": "yesterday"}, "start_date"),
    ("start-date-invalid", {"start_date": "2024-13-45T00:00:00Z"}, "start_date"),
    ("start-date-number", {"start_date": 20240101}, "start_date"),
    ("collection-not-uuid", {"collection_ids": ["../../etc"]}, "collection_ids"),
    ("view-not-uuid", {"metadata_view_ids": ["view one"]}, "metadata_view_ids"),
    ("media-type-empty", {"media_types": [" "]}, "media_types"),
    ("file-preference", {"file_preference": "everything"}, "file_preference"),
    ("unknown-field", {"auth-token": TOKEN}, "auth-token"),
    ("unknown-field-2", {"password": "hunter2-hunter2"}, "password"),
]

GOOD_DESTINATION = {"bucket_url": "/tmp/never-written-bucket"}
DESTINATION_CASES = [
    ("bucket-empty", {"bucket_url": ""}, "bucket_url"),
    ("bucket-blank", {"bucket_url": "   "}, "bucket_url"),
    ("bucket-ftp", {"bucket_url": "ftp://host/x"}, "bucket_url"),
    ("bucket-http", {"bucket_url": "http://example.com/bucket"}, "bucket_url"),
    ("bucket-s3-no-name", {"bucket_url": "s3://"}, "bucket_url"),
    ("bucket-gs-no-name", {"bucket_url": "gs:///prefix"}, "bucket_url"),
    ("bucket-number", {"bucket_url": 42}, "bucket_url"),
    ("concurrency-zero", {"download_concurrency": 0}, "download_concurrency"),
    ("concurrency-huge", {"download_concurrency": 10**6}, "download_concurrency"),
    ("concurrency-float", {"download_concurrency": 1.5}, "download_concurrency"),
    ("fraction-negative", {"max_delete_fraction": -0.1}, "max_delete_fraction"),
    ("fraction-above-one", {"max_delete_fraction": 2}, "max_delete_fraction"),
    ("fraction-string", {"max_delete_fraction": "10%"}, "max_delete_fraction"),
    ("grace-negative", {"delete_grace_period_hours": -1}, "delete_grace_period_hours"),
    ("grace-huge", {"delete_grace_period_hours": 1e12}, "delete_grace_period_hours"),
    ("webhook-secret-short", {"webhook_secret": "short"}, "webhook_secret"),
    ("webhook-secret-number", {"webhook_secret": 12345678}, "webhook_secret"),
    ("aws-key-alone", {"bucket_url": "s3://b/p", "aws_access_key_id": "AKIAEXAMPLEKEY"}, "aws_secret_access_key"),
    ("endpoint-ftp", {"bucket_url": "s3://b/p", "endpoint_url": "ftp://minio:9000"}, "endpoint_url"),
    ("download-files-string", {"download_files": "yes"}, "download_files"),
    ("file-url-field-empty", {"file_url_field": " "}, "file_url_field"),
    ("unknown-field", {"bucket": "s3://b"}, "bucket"),
]

CASES = [("source-iconik", *case) for case in SOURCE_CASES] + [
    ("destination-bucket", *case) for case in DESTINATION_CASES]
# The sample that runs through the real executables in the fast variant (every case does with SOAK=1).
REAL_SAMPLE = {("source-iconik", "token-whitespace"), ("source-iconik", "page-size-zero"),
               ("destination-bucket", "fraction-above-one")}


def _config(good: dict, changes: dict) -> dict:
    config = dict(good)
    for name, value in changes.items():
        if value is DROP:
            config.pop(name, None)
        else:
            config[name] = value
    return config


def _invocations(tmp: Path) -> list[dict]:
    """Each case's commands: check, plus read/discover (source) or write (destination)."""
    catalog = tmp / "catalog.json"
    catalog.write_text(json.dumps({"streams": []}))
    stdin = tmp / "empty-input.jsonl"
    stdin.write_text("")
    runs = []
    for index, (program, case_id, changes, field) in enumerate(CASES):
        good = GOOD_SOURCE if program == "source-iconik" else GOOD_DESTINATION
        config = tmp / f"{program}-{case_id}.json"
        config.write_text(json.dumps(_config(good, changes)))
        if program == "source-iconik":
            second = ["read", "--config", str(config), "--catalog", str(catalog)] if index % 2 == 0 else [
                "discover", "--config", str(config)]
        else:
            second = ["write", "--config", str(config), "--catalog", str(catalog)]
        for args in (["check", "--config", str(config)], second):
            name = f"{program}-{case_id}-{args[0]}"
            runs.append({"program": program, "case": case_id, "field": field, "args": args,
                         "stdin": str(stdin) if args[0] == "write" else None,
                         "stdout": str(tmp / f"{name}.out"), "stderr": str(tmp / f"{name}.err")})
    return runs


def _run_forked(forked: list[dict]) -> list[tuple[dict, int, str, str]]:
    if not forked:
        return []
    done = subprocess.run([sys.executable, "-m", "reliability_tests.forkrun"], input=json.dumps(forked),
                          capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    return [(run, code, Path(run["stdout"]).read_text(), Path(run["stderr"]).read_text())
            for run, code in zip(forked, codes, strict=True)]


def _run_real(run: dict) -> tuple[dict, int, str, str]:
    stdin = Path(run["stdin"]).read_bytes() if run["stdin"] else None
    done = run_cli(run["program"], *run["args"], stdin=stdin)
    return run, done.returncode, done.stdout.decode(), done.stderr.decode()


def _problems(run: dict, code: int, out: str, err: str) -> list[str]:
    found = []
    command, field = run["args"][0], run["field"]
    if "Traceback" in out or "Traceback" in err:
        found.append("a stack trace was printed")
    parsed = messages(out)
    if command == "check":
        statuses = [m["connectionStatus"] for m in parsed if m.get("type") == "CONNECTION_STATUS"]
        if code != 0:
            found.append(f"check exited {code} (a failed check reports through CONNECTION_STATUS, exit 0)")
        if len(statuses) != 1 or statuses[0].get("status") != "FAILED":
            found.append(f"expected one FAILED CONNECTION_STATUS, got {statuses}")
        elif field not in (statuses[0].get("message") or ""):
            found.append(f"the message does not name {field!r}: {statuses[0].get('message')!r}")
    else:
        errors = [m["trace"]["error"] for m in parsed
                  if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"]
        if code == 0:
            found.append(f"{command} exited 0")
        if len(errors) != 1:
            found.append(f"expected one TRACE error, got {len(errors)}")
        elif field not in errors[0].get("message", "") or errors[0].get("failure_type") != "config_error":
            found.append(f"the error does not name {field!r} as a config error: {errors[0]}")
    return found


def test_at_least_40_malformed_configs_give_one_readable_error_naming_the_field(tmp_path):
    assert len(CASES) >= 40
    runs = _invocations(tmp_path)
    sample = [r for r in runs if (r["program"], r["case"]) in REAL_SAMPLE] if not SOAK else runs
    with ThreadPoolExecutor(4) as pool:  # the forked batch and the real executables side by side
        forked = pool.submit(_run_forked, [] if SOAK else runs)
        results = list(pool.map(_run_real, sample))
        results += forked.result()
    failures = {}
    for run, code, out, err in results:
        problems = _problems(run, code, out, err)
        if problems:
            failures[f"{run['program']} {run['case']} {run['args'][0]}"] = problems
    assert not failures, json.dumps(failures, indent=1)[:6000]


# ---- malformed state ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_emulator():
    with EmulatorServer(LibraryConfig(assets=25, seed=3), rate_limit=False) as emu:
        yield emu


def _assets_state(stream_state) -> list:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "assets"}, "stream_state": stream_state}}]


STATES = {
    "garbage-cursor": _assets_state({"date_modified": "garbage"}),
    "number-cursor": _assets_state({"date_modified": 12345}),
    "wrong-key": _assets_state({"unexpected": "shape"}),
    "future-cursor": _assets_state({"date_modified": "2999-01-01T00:00:00Z"}),
    "no-stream-state": [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "assets"}}}],
    "legacy-dict": {"assets": {"date_modified": "garbage"}},
    "bad-global": [{"type": "GLOBAL", "global": "nonsense"}],
    "list-of-strings": ["not", "a", "state"],
    "not-json": "not json at all",
}
FAST_STATES = ("garbage-cursor", "future-cursor", "legacy-dict", "list-of-strings", "not-json")


@pytest.mark.parametrize("state", [STATES[k] for k in (STATES if SOAK else FAST_STATES)],
                         ids=list(STATES if SOAK else FAST_STATES))
def test_malformed_state_is_a_clear_error_or_a_documented_reset_never_silent_loss(small_emulator, tmp_path, state):
    setup = Setup(small_emulator, tmp_path, streams=("assets",))
    state_path = tmp_path / "state.json"
    state_path.write_text(state if isinstance(state, str) else json.dumps(state))
    done = run_cli("source-iconik", "read", "--config", str(setup.source), "--catalog", str(setup.catalog),
                   "--state", str(state_path))
    out, err = done.stdout.decode(), done.stderr.decode()
    parsed = messages(out)
    ids = {m["record"]["data"]["id"] for m in parsed if m.get("type") == "RECORD"}
    errors = [m["trace"]["error"]["message"] for m in parsed
              if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"]
    live = small_emulator.truth.live_asset_ids()
    if done.returncode == 0:
        future = "2999" in json.dumps(state)
        if future:
            # A cursor from the future is kept as it came: nothing is newer, so nothing is read, and the
            # state stays put; no object is ever deleted by an incremental read, so nothing is lost.
            assert not ids
        else:
            # An unreadable cursor resets the stream to a full read (documented in assets.py), with a warning.
            assert ids == live, "an ignored state must read everything again"
            if "date_modified" in json.dumps(state):
                assert "Ignoring an unreadable assets cursor" in out
    else:
        assert errors and all(e.strip() for e in errors), out[-2000:] + err[-2000:]
        assert not ids


# ---- malformed API JSON ---------------------------------------------------------------------------------
def test_malformed_api_json_is_a_clear_error_after_retries(tmp_path):
    """Every iconik body cut in half: check reports it, read fails with a readable error after retrying,
    and the destination behind it deletes nothing."""
    with EmulatorServer(LibraryConfig(assets=10, seed=4), rate_limit=False,
                        faults=Faults(seed=1, truncate_rate=1.0)) as emu:
        setup = Setup(emu, tmp_path, streams=("assets", "asset_inventory"))
        check = run_cli("source-iconik", "check", "--config", str(setup.source))
        out = check.stdout.decode()
        status = [m["connectionStatus"] for m in messages(out) if m.get("type") == "CONNECTION_STATUS"]
        assert check.returncode == 0 and status and status[0]["status"] == "FAILED"
        assert "malformed JSON" in status[0]["message"], status
        assert "Traceback" not in out + check.stderr.decode()
        calls = emu.control.counters()["by_endpoint"]
        assert calls.get("users/current", 0) >= 3, calls  # retried before giving up

        (setup.bucket / "objects" / "assets" / "keep-me").mkdir(parents=True)
        (setup.bucket / "objects" / "assets" / "keep-me" / "object.json").write_text('{"record": {}}')
        result = setup.sync(check=False)
        assert result.source_rc != 0
        assert "malformed JSON" in result.source_log
        assert setup.snapshot().live_ids("assets") == {"keep-me"}, "a failed sync deletes nothing"
