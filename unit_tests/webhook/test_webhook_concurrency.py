"""Concurrency: many requests at once, and requests while a destination sync writes the same bucket."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.webhook_load import bench
from destination_bucket.config import parse_config
from destination_bucket.store import Store, bucket_lock
from destination_bucket.sync import SyncWriter
from destination_bucket.webhook import ReceiverServer
from unit_tests.destination.messages import catalog, full_stream
from unit_tests.webhook.helpers import (
    body_of,
    config,
    event,
    live,
    proxy,
    signed_headers,
    stored_asset,
    trashed,
    write_bucket,
)


def send(session: requests.Session, url: str, payload: dict) -> requests.Response:
    body = body_of(payload)
    return session.post(url, data=body, headers=signed_headers(body), timeout=30)


def test_the_same_event_sent_concurrently_deletes_once(bucket):
    write_bucket(bucket, [stored_asset("a1"), stored_asset("a2")], [proxy("p1", "a1")])
    payload = event("a1", "delete")
    with ReceiverServer(parse_config(config(bucket))) as server, ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: send(requests.Session(), server.url, payload), range(32)))
    assert {a.status_code for a in answers} == {200}
    bodies = [a.json() for a in answers]
    assert all(b == bodies[0] for b in bodies)
    assert bodies[0]["deleted_objects"] == ["objects/assets/a1", "objects/proxies/p1"]
    assert trashed(bucket) == {"a1"} and live(bucket) == {"a2"}
    assert not (bucket / "_trash/assets/a1/a1").exists(), "no nested trash copy"


def test_events_while_a_destination_sync_writes_lose_no_object(bucket):
    targets = [f"b{i:02d}" for i in range(40)]
    updated = [f"u{i:02d}" for i in range(40)]
    write_bucket(bucket, [stored_asset(k) for k in targets + updated])
    new = [stored_asset(f"n{i:03d}") for i in range(500)]
    changes = [stored_asset(k, modified="2026-04-01T00:00:00Z", title=f"changed {k}") for k in updated]
    # Each target key gets its events from one client, in order, so its final state is known.
    final = {k: ("delete" if i % 3 else "restore") for i, k in enumerate(targets)}
    plans = {n: [] for n in range(8)}
    for i, key in enumerate(targets):
        ops = ["delete", "restore", "update", "delete", "purge", "restore", final[key]]
        plans[i % 8].extend((key, op) for op in ops)

    writer_errors: list[BaseException] = []
    echoed: list[dict] = []

    def sync() -> None:
        try:
            writer = SyncWriter(parse_config({"bucket_url": str(bucket), "download_concurrency": 8}),
                                catalog("assets"))
            echoed.extend(writer.run(iter(full_stream("assets", new + changes))))
        except BaseException as exc:  # reported below
            writer_errors.append(exc)

    def client(plan: list[tuple[str, str]], url: str) -> list[int]:
        session = requests.Session()
        return [send(session, url, event(key, op, {"id": key, "status": "ACTIVE"})).status_code for key, op in plan]

    with ReceiverServer(parse_config(config(bucket))) as server:
        writer = threading.Thread(target=sync)
        writer.start()
        with ThreadPoolExecutor(8) as pool:
            codes = [c for result in pool.map(client, plans.values(), [server.url] * 8) for c in result]
        writer.join(timeout=60)
    assert not writer_errors, writer_errors
    assert echoed and echoed[-1]["type"] == "STATE"
    assert set(codes) == {200} and len(codes) == 7 * len(targets)
    assert {r["id"] for r in new} | set(updated) <= live(bucket)
    for key in updated:
        record = json.loads((bucket / "objects/assets" / key / "object.json").read_text())["record"]
        assert record["title"] == f"changed {key}"
    for key, op in final.items():
        assert (key in live(bucket)) == (op == "restore") and (key in trashed(bucket)) == (op == "delete"), key
        if op == "delete":
            assert (bucket / "_trash/assets" / key / "_deleted.json").exists()
    assert not [p for p in (bucket / "_tmp").rglob("*") if p.is_file()]


def test_bucket_lock_is_exclusive_across_threads_and_leaves_its_file_in_meta(bucket):
    store = Store(str(bucket))
    inside, peak = [0], [0]
    guard = threading.Lock()

    def work() -> None:
        for _ in range(20):
            with bucket_lock(store):
                with guard:
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 1
    assert (bucket / "_meta/.lock").exists()


def test_bucket_lock_is_an_flock_other_processes_wait_for(bucket):
    import fcntl

    store = Store(str(bucket))
    with bucket_lock(store):
        with open(bucket / "_meta/.lock", "a+b") as other:  # another open file: what another process holds
            try:
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                taken = True
            except BlockingIOError:
                taken = False
    assert taken is False
    with open(bucket / "_meta/.lock", "a+b") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again


def test_fast_load_200_signed_events_from_8_clients(tmp_path):
    result = bench(events=200, clients=8, assets=50, workdir=tmp_path, in_process=True)
    assert result["events"] == 200 and result["errors"] == 0, result["error_samples"]
    assert result["bucket_problems"] == []
    assert result["p99_ms"] < 2000
