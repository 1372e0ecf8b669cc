"""Records become objects: deterministic keys, object.json, streamed downloads, unchanged objects skipped."""

from __future__ import annotations

import hashlib
import json

from destination_bucket.config import parse_config
from destination_bucket.sync import SyncWriter
from unit_tests.destination.conftest import media_bytes
from unit_tests.destination.messages import asset, catalog, full_stream, record, state, status


def write(bucket, messages, cat=None, **config):
    writer = SyncWriter(parse_config({"bucket_url": str(bucket), **config}), cat or catalog("assets"))
    return list(writer.run(messages)), writer


def object_json(bucket, stream, key):
    return json.loads((bucket / "objects" / stream / key / "object.json").read_text())


def test_record_becomes_object_json_with_its_file_streamed_beside_it(bucket, media):
    url = media.url("a1.mp4", size=300_000)
    write(bucket, full_stream("assets", [asset("a1", url=url)]))
    doc = object_json(bucket, "assets", "a1")
    assert doc["record"]["id"] == "a1" and doc["stream"] == "assets"
    [blob] = doc["blobs"]
    data = (bucket / blob["key"]).read_bytes()
    assert blob["key"] == "objects/assets/a1/a1.mp4"
    assert data == media_bytes("a1.mp4", 300_000)
    assert blob["size"] == 300_000 and blob["sha256"] == hashlib.sha256(data).hexdigest()
    assert blob["content_type"] == "video/mp4"


def test_unchanged_object_is_not_downloaded_or_rewritten_again(bucket, media):
    url = media.url("same.mp4")
    write(bucket, full_stream("assets", [asset("s1", url=url)]))
    first = (bucket / "objects/assets/s1/object.json").read_bytes()
    hits = media.hits["/media/same.mp4"]
    _, writer = write(bucket, full_stream("assets", [asset("s1", url=url + "&sig=new")]))
    assert media.hits["/media/same.mp4"] == hits
    assert writer.outcomes["unchanged"] == 1
    assert (bucket / "objects/assets/s1/object.json").read_bytes() == first


def test_modified_record_is_rewritten_and_its_file_downloaded_again(bucket, media):
    url = media.url("m.mp4")
    write(bucket, full_stream("assets", [asset("m1", url=url)]))
    hits = media.hits["/media/m.mp4"]
    _, writer = write(bucket, full_stream("assets", [asset("m1", "2026-03-01T00:00:00Z", url=url, title="New")]))
    assert media.hits["/media/m.mp4"] == hits + 1
    assert writer.outcomes["written"] == 1
    assert object_json(bucket, "assets", "m1")["record"]["title"] == "New"


def test_cut_download_never_becomes_a_file_and_is_retried_next_sync(bucket, media):
    cut = media.url("cut.mp4", size=100_000, kind="cut")
    _, writer = write(bucket, full_stream("assets", [asset("c1", url=cut)]))
    assert writer.outcomes["failed"] == 1
    doc = object_json(bucket, "assets", "c1")
    assert doc["blobs"] == [] and "short body" in doc["blob_error"] or "gave up" in doc["blob_error"]
    assert sorted(p.name for p in (bucket / "objects/assets/c1").iterdir()) == ["object.json"]
    assert not any(p.is_file() for p in (bucket / "_tmp").rglob("*")), "no temp file is left behind"
    good = media.url("cut.mp4", size=100_000)
    _, writer = write(bucket, full_stream("assets", [asset("c1", url=good)]))
    assert writer.outcomes["written"] == 1 and object_json(bucket, "assets", "c1")["blobs"][0]["size"] == 100_000


def test_expired_url_is_reported_not_retried_forever(bucket, media):
    _, writer = write(bucket, full_stream("assets", [asset("g1", url=media.url("g.mp4", kind="gone"))]))
    assert writer.outcomes["failed"] == 1 and media.hits["/gone/g.mp4"] == 1
    assert "403" in object_json(bucket, "assets", "g1")["blob_error"]


def test_download_files_off_writes_metadata_only(bucket, media):
    write(bucket, full_stream("assets", [asset("n1", url=media.url("n.mp4"))]), download_files=False)
    assert object_json(bucket, "assets", "n1")["blobs"] == []
    assert media.hits["/media/n.mp4"] == 0


def test_hostile_keys_stay_inside_the_bucket(bucket):
    ids = ["../../escape", "/etc/passwd", "a/b", "..", ".", "nul\x00byte", "\u202eRTL", "x" * 2000]
    write(bucket, full_stream("assets", [asset(i) for i in ids]))
    root = bucket.resolve()
    written = [p for p in (bucket / "objects/assets").iterdir()]
    assert len(written) == len(ids)
    assert all(p.resolve().parent == root / "objects" / "assets" for p in written)
    assert not (bucket.parent / "escape").exists() and not (bucket / "etc").exists()
    stored = {object_json(bucket, "assets", p.name)["record"]["id"] for p in written}
    assert stored == set(ids)


def test_append_dedup_upserts_while_append_keeps_every_version(bucket):
    versions = [record("events", {"id": "e1", "v": n}) for n in (1, 2, 2)]
    write(bucket, versions + [state("events", {}), status("events")], catalog("events"))
    assert len(list((bucket / "objects/events").iterdir())) == 2  # v1 and v2; the resent v2 is the same
    write(bucket, full_stream("assets", [asset("u1"), asset("u1", "2026-05-01T00:00:00Z")]))
    assert object_json(bucket, "assets", "u1")["record"]["date_modified"] == "2026-05-01T00:00:00Z"


def test_many_files_download_in_parallel_and_all_land(bucket, media):
    rows = [asset(f"p{i}", url=media.url(f"p{i}.bin", size=5000 + i)) for i in range(40)]
    _, writer = write(bucket, full_stream("assets", rows), download_concurrency=8)
    assert writer.outcomes["written"] == 40
    for i in range(40):
        [blob] = object_json(bucket, "assets", f"p{i}")["blobs"]
        assert (bucket / blob["key"]).read_bytes() == media_bytes(f"p{i}.bin", 5000 + i)


def test_temp_files_left_by_a_killed_writer_are_cleared_but_fresh_ones_kept(bucket):
    import os
    import time

    (bucket / "_tmp").mkdir(parents=True)
    stale, fresh = bucket / "_tmp" / "old-part.mp4", bucket / "_tmp" / "in-progress.mp4"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    day_ago = time.time() - 86_400
    os.utime(stale, (day_ago, day_ago))
    write(bucket, full_stream("assets", [asset("t1")]))
    assert not stale.exists() and fresh.exists()
