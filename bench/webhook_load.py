"""Load test of the webhook receiver: signed iconik events from concurrent clients, latency percentiles.

    .venv/bin/python bench/webhook_load.py [--events 2000] [--clients 8] [--assets 400]

Builds a local bucket with the destination's own writer (assets, proxies, collections), serves the receiver
on 127.0.0.1 (the `destination-bucket-webhook` console script as its own process; `--in-process` serves it
from a thread instead) and sends a mix of delete / restore / update / create / unknown events, each
signed with X-Iconik-Signature, from `--clients` threads with keep-alive sessions. An error is any
exception, any status but 200, or an answer not handled as it should be. Afterwards every asset must be
exactly once in the bucket, live or in the trash, with its object.json. Prints events, errors, p50/p90/p99
and max latency and throughput; exits 1 on any error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from destination_bucket.config import parse_config  # noqa: E402
from destination_bucket.sync import SyncWriter  # noqa: E402
from destination_bucket.webhook import SIGNATURE_HEADER, WEBHOOK_PATH, ReceiverServer, sign  # noqa: E402
from iconik_emulator.server import free_port  # noqa: E402
from tools.processes import stop  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"
OPERATIONS = ("delete", "restore", "update", "create", "purge", "update", "download")


def _catalog(*streams: str) -> dict:
    modes = {"assets": "append_dedup", "proxies": "append_dedup", "collections": "overwrite"}
    return {"streams": [{
        "stream": {"name": s, "json_schema": {"type": "object"}, "supported_sync_modes": ["full_refresh"],
                   "source_defined_primary_key": [["id"]]},
        "sync_mode": "full_refresh", "destination_sync_mode": modes[s], "primary_key": [["id"]],
    } for s in streams]}


def _stream(stream: str, rows: list[dict]) -> list[dict]:
    out = [{"type": "RECORD", "record": {"stream": stream, "data": r, "emitted_at": 1}} for r in rows]
    out.append({"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": stream}, "stream_state": {}}}})
    out.append({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1, "stream_status": {
        "stream_descriptor": {"name": stream}, "status": "COMPLETE"}}})
    return out


def build_bucket(bucket: Path, assets: int) -> list[str]:
    """A synced bucket of `assets` assets (two proxies each) in two collections; returns the asset ids."""
    collections = [{"id": "c-root", "title": "Root", "in_collections": [], "directory_paths": ["Root"]},
                   {"id": "c-a", "title": "A", "in_collections": ["c-root"], "directory_paths": ["Root/A"]}]
    ids = [f"asset-{n:05d}" for n in range(assets)]
    rows = [{"id": i, "title": i, "status": "ACTIVE", "media_type": "video", "date_modified": "2026-01-01T00:00:00Z",
             "in_collections": ["c-a"], "directory_paths": ["Root/A"], "file_url": None} for i in ids]
    proxies = [{"id": f"{i}-p{k}", "asset_id": i, "url": None} for i in ids for k in range(2)]
    writer = SyncWriter(parse_config({"bucket_url": str(bucket)}), _catalog("assets", "proxies", "collections"))
    list(writer.run(iter(_stream("assets", rows) + _stream("proxies", proxies) + _stream("collections", collections))))
    return ids


def make_events(asset_ids: list[str], count: int) -> list[dict]:
    events = []
    for n in range(count):
        asset_id = asset_ids[n % len(asset_ids)]
        operation = OPERATIONS[(n // len(asset_ids) + n) % len(OPERATIONS)]
        data = {"id": asset_id, "title": f"t{n}", "status": "ACTIVE" if n % 5 else "HIDDEN"}
        events.append({"system_domain_id": "bench", "object_id": asset_id, "user_id": "bench", "realm": "entity",
                       "operation": operation, "event_type": "assets", "request_id": secrets.token_hex(16),
                       "data": data})
    return events


def run_load(url: str, secret: str, events: list[dict], clients: int) -> dict:
    """Send the events from `clients` threads; returns counts and latency figures in milliseconds."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(len(events)))

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            payload = events[index]
            body = json.dumps(payload).encode()
            headers = {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}
            started = time.perf_counter()
            try:
                response = session.post(url, data=body, headers=headers, timeout=30)
                elapsed = (time.perf_counter() - started) * 1000
                answer = response.json() if response.status_code == 200 else {}
                expected = payload["operation"] != "download"
                problem = None if response.status_code == 200 and answer.get("handled") is expected else (
                    f"{payload['operation']}: HTTP {response.status_code} {response.text[:200]}")
            except requests.RequestException as exc:
                elapsed, problem = (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}"
            with lock:
                latencies.append(elapsed)
                if problem:
                    errors.append(problem)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1)] if ordered else 0.0

    return {"events": len(latencies), "errors": len(errors), "error_samples": errors[:5], "clients": clients,
            "seconds": round(seconds, 3), "events_per_second": round(len(latencies) / seconds, 1) if seconds else 0,
            "p50_ms": round(pct(50), 2), "p90_ms": round(pct(90), 2), "p99_ms": round(pct(99), 2),
            "max_ms": round(ordered[-1], 2) if ordered else 0.0,
            "mean_ms": round(statistics.fmean(ordered), 2) if ordered else 0.0}


def check_bucket(bucket: Path, asset_ids: list[str]) -> list[str]:
    """Every asset exactly once, live or trashed, whole: the problems found (empty when none)."""
    problems = []
    for asset_id in asset_ids:
        live = (bucket / "objects/assets" / asset_id / "object.json").exists()
        trashed = (bucket / "_trash/assets" / asset_id / "object.json").exists()
        if live == trashed:
            problems.append(f"{asset_id}: live={live} trashed={trashed}")
        elif trashed and not (bucket / "_trash/assets" / asset_id / "_deleted.json").exists():
            problems.append(f"{asset_id}: in the trash without _deleted.json")
    leftovers = [p for p in (bucket / "_tmp").rglob("*") if p.is_file()] if (bucket / "_tmp").exists() else []
    if leftovers:
        problems.append(f"{len(leftovers)} temporary files left")
    return problems


@contextlib.contextmanager
def receiver_process(config_path: Path):
    """`destination-bucket-webhook --config ... --host 127.0.0.1 --port P` as its own process; yields its URL."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "destination-bucket-webhook"), "--config", str(config_path),
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the receiver did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    finally:
        stop(process)


def bench(events: int, clients: int, assets: int, workdir: Path, in_process: bool = False) -> dict:
    """Build the bucket, serve the receiver (its own process, or a thread with `in_process`), send the load."""
    bucket = workdir / "bucket"
    asset_ids = build_bucket(bucket, assets)
    raw = {"bucket_url": str(bucket), "webhook_secret": SECRET}
    if in_process:
        with ReceiverServer(parse_config(raw)) as server:
            result = run_load(server.url, SECRET, make_events(asset_ids, events), clients)
    else:
        config_path = workdir / "receiver.json"
        config_path.write_text(json.dumps(raw))
        with receiver_process(config_path) as url:
            result = run_load(url, SECRET, make_events(asset_ids, events), clients)
    result["receiver"] = "thread" if in_process else "process"
    problems = check_bucket(bucket, asset_ids)
    result["bucket_problems"] = problems
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--assets", type=int, default=400)
    parser.add_argument("--in-process", action="store_true", help="serve the receiver from a thread of this process")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="webhook-load-") as tmp:
        result = bench(args.events, args.clients, args.assets, Path(tmp), args.in_process)
    print(json.dumps(result, indent=2))
    print(f"{result['events']} events from {result['clients']} clients in {result['seconds']} s "
          f"({result['events_per_second']}/s): {result['errors']} errors, p50 {result['p50_ms']} ms, "
          f"p99 {result['p99_ms']} ms, max {result['max_ms']} ms; bucket problems: {len(result['bucket_problems'])}")
    return 1 if result["errors"] or result["bucket_problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
