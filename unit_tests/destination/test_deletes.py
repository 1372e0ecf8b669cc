"""Deletes: tombstones, revivals, the grace-period purge and the guarded inventory sweep."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from destination_bucket.config import parse_config
from destination_bucket.sync import SyncWriter
from unit_tests.destination.messages import (
    asset,
    catalog,
    full_stream,
    proof,
    record,
    state,
    status,
    streams_in,
    tombstone,
)

ALL = ("assets", "deleted_assets", "asset_inventory", "collections")
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def sync(bucket, messages, now=NOW, streams=None, **config):
    """One sync whose catalog holds the streams the messages speak of (or `streams`)."""
    cat = catalog(*(streams or streams_in(messages)))
    writer = SyncWriter(parse_config({"bucket_url": str(bucket), **config}), cat, now=now)
    return list(writer.run(messages)), writer


def live(bucket) -> set[str]:
    root = bucket / "objects" / "assets"
    return {p.name for p in root.iterdir()} if root.exists() else set()


def trashed(bucket) -> set[str]:
    root = bucket / "_trash" / "assets"
    return {p.name for p in root.iterdir()} if root.exists() else set()


def seed(bucket, ids):
    sync(bucket, full_stream("assets", [asset(i) for i in ids]))


def inventory(ids, emitted=None, total=None, complete=True, status_complete=True):
    emitted = len(ids) if emitted is None else emitted
    return full_stream("asset_inventory", [{"id": i} for i in ids], proof(emitted, total, complete),
                       complete=status_complete)


def test_tombstone_moves_the_object_to_trash_with_the_time(bucket):
    seed(bucket, ["a", "b"])
    echoed, _ = sync(bucket, full_stream("deleted_assets", [tombstone("a")]))
    assert live(bucket) == {"b"} and trashed(bucket) == {"a"}
    marker = json.loads((bucket / "_trash/assets/a/_deleted.json").read_text())
    assert marker["deleted_at"] == NOW.isoformat() and marker["source_deleted_at"] == "2026-02-01T00:00:00Z"
    assert json.loads((bucket / "_trash/assets/a/object.json").read_text())["record"]["id"] == "a"
    assert len(echoed) == 1, "the tombstone stream's state is echoed once its deletes are applied"


def test_tombstones_of_a_stream_that_did_not_complete_delete_nothing_and_echo_no_state(bucket):
    seed(bucket, ["a"])
    echoed, _ = sync(bucket, full_stream("deleted_assets", [tombstone("a")], complete=False))
    assert live(bucket) == {"a"} and echoed == []
    echoed, _ = sync(bucket, full_stream("deleted_assets", [tombstone("a")])[:-1] + [status("deleted_assets",
                                                                                              "INCOMPLETE")])
    assert live(bucket) == {"a"} and echoed == []


def test_stale_tombstone_older_than_the_object_is_ignored(bucket):
    sync(bucket, full_stream("assets", [asset("a", "2026-03-01T00:00:00Z")]))
    sync(bucket, full_stream("deleted_assets", [tombstone("a", "2026-02-01T00:00:00Z")]))
    assert live(bucket) == {"a"}


def test_restored_asset_revives_its_object_within_the_grace_period(bucket):
    seed(bucket, ["a"])
    sync(bucket, full_stream("deleted_assets", [tombstone("a")]))
    _, writer = sync(bucket, full_stream("assets", [asset("a")]), now=NOW + timedelta(hours=2))
    assert live(bucket) == {"a"} and trashed(bucket) == set()
    assert writer.reconciler.counts["restored"] == 1
    assert not (bucket / "objects/assets/a/_deleted.json").exists()
    assert writer.outcomes["unchanged"] == 1, "a revived object is not rewritten"


def test_trash_is_purged_only_after_the_grace_period(bucket):
    seed(bucket, ["a"])
    sync(bucket, full_stream("deleted_assets", [tombstone("a")]))
    sync(bucket, full_stream("collections", []), now=NOW + timedelta(hours=23))
    assert trashed(bucket) == {"a"}
    _, writer = sync(bucket, full_stream("collections", []), now=NOW + timedelta(hours=24, minutes=1))
    assert trashed(bucket) == set() and writer.reconciler.counts["purged"] == 1


def test_zero_grace_purges_at_the_end_of_the_same_sync(bucket):
    seed(bucket, ["a", "b"])
    sync(bucket, full_stream("deleted_assets", [tombstone("a")]), delete_grace_period_hours=0)
    assert live(bucket) == {"b"} and trashed(bucket) == set()


def test_failed_sync_purges_nothing(bucket):
    seed(bucket, ["a"])
    sync(bucket, full_stream("deleted_assets", [tombstone("a")]))
    later = NOW + timedelta(days=3)
    sync(bucket, full_stream("assets", [asset("b")], complete=False), now=later)
    assert trashed(bucket) == {"a"}


def test_complete_inventory_sweeps_absent_objects_and_revives_listed_trash(bucket):
    seed(bucket, [f"a{i}" for i in range(20)])
    sync(bucket, full_stream("deleted_assets", [tombstone("a0")]))
    ids = [f"a{i}" for i in range(20) if i != 7]  # a7 is gone from iconik, a0 came back
    _, writer = sync(bucket, inventory(ids))
    assert live(bucket) == set(ids) and trashed(bucket) == {"a7"}
    assert writer.reconciler.counts["swept"] == 1 and writer.reconciler.counts["restored"] == 1


def test_inventory_sweep_refuses_above_the_maximum_delete_fraction(bucket, caplog):
    seed(bucket, [f"a{i}" for i in range(10)])
    sync(bucket, inventory(["a0", "a1", "a2"]), max_delete_fraction=0.5)
    assert len(live(bucket)) == 10
    assert "above the maximum delete fraction" in caplog.text
    sync(bucket, inventory([f"a{i}" for i in range(5)]), max_delete_fraction=0.5)
    assert live(bucket) == {f"a{i}" for i in range(5)}


def test_inventory_without_a_complete_proof_deletes_nothing(bucket, caplog):
    seed(bucket, ["a", "b", "c"])
    cases = {
        "not complete": inventory(["a", "b"], complete=False),
        "seen fewer than total (10,000 window)": inventory(["a", "b"], total=3),
        "records lost in transit": inventory(["a", "b"], emitted=3, total=3),
        "stream INCOMPLETE": inventory(["a", "b"], status_complete=False) + [status("asset_inventory",
                                                                                      "INCOMPLETE")],
        "no status at all": inventory(["a", "b"], status_complete=False),
        "no proof": full_stream("asset_inventory", [{"id": "a"}], {}),
    }
    for name, messages in cases.items():
        sync(bucket, messages, max_delete_fraction=1)
        assert live(bucket) == {"a", "b", "c"}, name
    assert "skipped, nothing deleted" in caplog.text


def test_sweep_never_removes_objects_written_in_the_same_sync(bucket):
    seed(bucket, ["a"])
    messages = inventory(["a"]) + full_stream("assets", [asset("new")])  # inventory read before the asset
    sync(bucket, messages, max_delete_fraction=1)
    assert live(bucket) == {"a", "new"}


def test_overwrite_removes_old_objects_only_after_the_stream_completes(bucket):
    rows = [{"id": "c1"}, {"id": "c2"}]
    sync(bucket, full_stream("collections", rows))
    sync(bucket, full_stream("collections", [{"id": "c2"}], complete=False))
    assert {p.name for p in (bucket / "objects/collections").iterdir()} == {"c1", "c2"}
    sync(bucket, full_stream("collections", [{"id": "c2"}]))
    assert {p.name for p in (bucket / "objects/collections").iterdir()} == {"c2"}


def test_deletes_happen_before_the_tombstone_state_is_echoed(bucket):
    seed(bucket, ["a"])
    messages = [record("deleted_assets", tombstone("a")), state("deleted_assets", {"date_deleted": "x"})]
    writer = SyncWriter(parse_config({"bucket_url": str(bucket)}), catalog("deleted_assets"), now=NOW)
    out = writer.run(iter(messages + [status("deleted_assets")]))
    first = next(out)
    assert first["type"] == "STATE" and trashed(bucket) == {"a"}
    list(out)


def test_a_sync_in_which_any_stream_failed_deletes_nothing_and_holds_the_tombstone_states(bucket):
    seed(bucket, ["a", "b", "c"])
    sync(bucket, full_stream("deleted_assets", [tombstone("a")]), streams=["deleted_assets"],
         delete_grace_period_hours=0)
    messages = (full_stream("deleted_assets", [tombstone("b")]) + inventory(["c"])
                + full_stream("collections", [{"id": "c1"}])[:-1] + [status("collections", "INCOMPLETE")])
    echoed, _ = sync(bucket, messages, max_delete_fraction=1, now=NOW + timedelta(days=9))
    assert live(bucket) == {"b", "c"}, "neither the tombstone nor the sweep was applied"
    names = [m["state"]["stream"]["stream_descriptor"]["name"] for m in echoed]
    assert names == ["collections"], "the delete streams' states are held back: the next sync reads them again"
    echoed, _ = sync(bucket, messages[:-1] + [status("collections")], max_delete_fraction=1)
    assert live(bucket) == {"c"} and {m["state"]["stream"]["stream_descriptor"]["name"] for m in echoed} == {
        "deleted_assets", "asset_inventory", "collections"}
