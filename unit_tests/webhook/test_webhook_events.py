"""Asset events applied to the bucket: deletes, purges, restores, updates against the filters, creates."""

from __future__ import annotations

import json

import pytest

from destination_bucket.config import parse_config
from destination_bucket.reconcile import Reconciler
from destination_bucket.store import Store
from destination_bucket.webhook import WebhookHandler, load_config
from unit_tests.webhook.helpers import (
    ARCHIVE,
    FINAL,
    PROJECTS,
    ROOT,
    client,
    config,
    event,
    live,
    post,
    proxy,
    stored_asset,
    trashed,
    write_bucket,
)


@pytest.fixture
def synced(bucket):
    write_bucket(bucket, [stored_asset(f"a{i}") for i in range(1, 5)],
                 [proxy("p1", "a1"), proxy("p2", "a1"), proxy("p3", "a2")])
    return bucket


def marker(bucket, stream: str, key: str) -> dict:
    return json.loads((bucket / "_trash" / stream / key / "_deleted.json").read_text())


@pytest.mark.parametrize("operation, reason", [("delete", "deleted in iconik"), ("purge", "purged in iconik")])
def test_delete_and_purge_soft_delete_the_asset_and_its_proxies(synced, operation, reason):
    app = client(synced)
    response = post(app, event("a1", operation, {"id": "a1", "date_deleted": "2026-03-01T00:00:00Z"}))
    assert response.status_code == 200
    assert response.json() == {"received": True, "event_type": f"assets.{operation}", "handled": True,
                               "asset_id": "a1", "deleted_objects": [
                                   "objects/assets/a1", "objects/proxies/p1", "objects/proxies/p2"]}
    assert live(synced) == {"a2", "a3", "a4"} and trashed(synced) == {"a1"}
    assert live(synced, "proxies") == {"p3"} and trashed(synced, "proxies") == {"p1", "p2"}
    mark = marker(synced, "assets", "a1")
    assert mark["reason"].startswith(reason) and mark["source_deleted_at"] == "2026-03-01T00:00:00Z"
    # the same layout the destination writes: the whole object folder moved
    assert json.loads((synced / "_trash/assets/a1/object.json").read_text())["record"]["id"] == "a1"


def test_the_same_event_twice_deletes_once_and_answers_the_same(synced):
    app = client(synced)
    payload = event("a1", "delete")
    first = post(app, payload).json()
    before = marker(synced, "assets", "a1")
    second = post(app, payload).json()
    assert first == second
    assert marker(synced, "assets", "a1") == before, "the second event did not touch the trash"
    assert post(app, event("a1", "purge")).json()["deleted_objects"] == first["deleted_objects"]


def test_restore_revives_and_is_idempotent(synced):
    app = client(synced)
    post(app, event("a1", "delete"))
    response = post(app, event("a1", "restore")).json()
    assert response["handled"] is True and response["deleted_objects"] == []
    assert "a1" in live(synced) and not trashed(synced)
    assert live(synced, "proxies") == {"p1", "p2", "p3"}
    assert not (synced / "objects/assets/a1/_deleted.json").exists()
    assert post(app, event("a1", "restore")).json() == response


def test_events_for_assets_not_in_the_bucket_change_nothing(synced):
    app = client(synced)
    for operation in ("delete", "purge", "restore", "update"):
        body = post(app, event("unknown-asset", operation)).json()
        assert body["handled"] is True and body["deleted_objects"] == [] and body["asset_id"] == "unknown-asset"
    assert live(synced) == {"a1", "a2", "a3", "a4"}


def test_create_is_acknowledged_and_left_to_the_next_sync(synced):
    body = post(client(synced), event("new-asset", "create", {"id": "new-asset", "title": "new"})).json()
    assert body == {"received": True, "event_type": "assets.create", "handled": True, "asset_id": "new-asset",
                    "deleted_objects": []}
    assert not (synced / "objects/assets/new-asset").exists()


@pytest.mark.parametrize("payload", [
    event("a1", "download"),
    event("a1", "delete", event_type="collections"),
    event("a1", "delete", realm="metadata"),
    event("a1", "delete", realm="shares"),
    {"event_type": "assets", "operation": "delete", "data": {}},  # no object id
    {"hello": "world"},
])
def test_unknown_events_are_200_not_handled(synced, payload):
    response = post(client(synced), payload)
    assert response.status_code == 200
    assert response.json()["handled"] is False and response.json()["deleted_objects"] == []
    assert live(synced) == {"a1", "a2", "a3", "a4"}


def test_update_still_matching_keeps_the_object(synced):
    body = post(client(synced), event("a1", "update", {"id": "a1", "title": "renamed", "status": "ACTIVE"})).json()
    assert body["handled"] is True and body["deleted_objects"] == []
    assert "a1" in live(synced)


def test_update_leaving_the_status_filter_unindexes_once(synced):
    app = client(synced)
    payload = event("a1", "update", {"id": "a1", "status": "HIDDEN"})
    first = post(app, payload).json()
    assert first["deleted_objects"] == ["objects/assets/a1", "objects/proxies/p1", "objects/proxies/p2"]
    assert "no longer matches the webhook filters: status HIDDEN" in marker(synced, "assets", "a1")["reason"]
    assert post(app, payload).json() == first


def test_update_is_not_reconciled_when_turned_off(synced):
    app = client(synced, webhook_reconcile_updates=False)
    body = post(app, event("a1", "update", {"id": "a1", "status": "HIDDEN"})).json()
    assert body["handled"] is True and body["deleted_objects"] == [] and "a1" in live(synced)


def test_statuses_in_the_filters_are_kept(synced):
    app = client(synced, webhook_filters={"status": ["ACTIVE", "HIDDEN"]})
    assert post(app, event("a1", "update", {"id": "a1", "status": "HIDDEN"})).json()["deleted_objects"] == []
    assert post(app, event("a2", "update", {"id": "a2", "status": "DELETED"})).json()["deleted_objects"] == [
        "objects/assets/a2", "objects/proxies/p3"]


def test_media_type_filter(synced):
    app = client(synced, webhook_filters={"media_types": ["Video"]})
    assert post(app, event("a1", "update", {"id": "a1", "media_type": "video"})).json()["deleted_objects"] == []
    assert post(app, event("a1", "update", {"id": "a1", "media_type": "image"})).json()["deleted_objects"]
    assert "a1" in trashed(synced)


def test_collection_filter_uses_the_collection_map_from_the_bucket(synced):
    app = client(synced, webhook_filters={"collection_ids": [PROJECTS]})
    # moved within Projects (Final is below it): kept, ancestors come from the collections objects
    assert post(app, event("a1", "update", {"id": "a1", "in_collections": [FINAL]})).json()["deleted_objects"] == []
    # moved to Archive (under Root, not under Projects): unindexed
    moved = post(app, event("a1", "update", {"id": "a1", "in_collections": [ARCHIVE]})).json()
    assert moved["deleted_objects"][0] == "objects/assets/a1"
    assert "not in the configured collections" in marker(synced, "assets", "a1")["reason"]
    # moved to a collection the bucket does not know yet (created since the last sync): kept, next sync decides
    assert post(app, event("a2", "update", {"id": "a2", "in_collections": ["c-new"]})).json()[
        "deleted_objects"] == []
    # collection ids given as the root: everything below matches
    root = client(synced, webhook_filters={"collection_ids": [ROOT]})
    assert post(root, event("a3", "update", {"id": "a3", "in_collections": [ARCHIVE]})).json()[
        "deleted_objects"] == []


def test_path_pattern_filter_on_moves_and_on_stored_paths(synced):
    app = client(synced, webhook_filters={"path_patterns": ["root/projects/*"]})
    assert post(app, event("a1", "update", {"id": "a1", "title": "t"})).json()["deleted_objects"] == []
    assert post(app, event("a1", "update", {"id": "a1", "in_collections": [ARCHIVE]})).json()["deleted_objects"]
    assert post(app, event("a2", "update", {"id": "a2", "in_collections": [ARCHIVE, FINAL]})).json()[
        "deleted_objects"] == []
    # data with no collection fields: the stored directory paths decide
    narrow = client(synced, webhook_filters={"path_patterns": ["Elsewhere/*"]})
    assert post(narrow, event("a3", "update", {"id": "a3", "title": "t"})).json()["deleted_objects"] == [
        "objects/assets/a3"]


def test_update_with_empty_data_uses_the_stored_object(synced):
    app = client(synced, webhook_filters={"media_types": ["image"]})
    assert post(app, event("a4", "update", {})).json()["deleted_objects"] == ["objects/assets/a4"]


def test_update_data_for_another_object_is_ignored(synced):
    app = client(synced)
    body = post(app, event("a1", "update", {"id": "someone-else", "status": "HIDDEN"})).json()
    assert body["deleted_objects"] == [] and "a1" in live(synced)


def test_the_next_sync_revives_a_webhook_deleted_asset_it_sees_again(synced):
    from destination_bucket.sync import SyncWriter
    from unit_tests.destination.messages import catalog, full_stream

    post(client(synced), event("a1", "delete"))
    writer = SyncWriter(parse_config({"bucket_url": str(synced)}), catalog("assets"))
    list(writer.run(iter(full_stream("assets", [stored_asset("a1", modified="2026-05-01T00:00:00Z")]))))
    assert "a1" in live(synced) and "a1" not in trashed(synced)


def test_grace_period_purge_removes_webhook_trash(synced):
    from datetime import UTC, datetime, timedelta

    post(client(synced), event("a1", "delete"))
    later = datetime.now(UTC) + timedelta(hours=25)
    assert Reconciler(Store(str(synced)), 24, 0.1, later).purge_expired() == 3
    assert not trashed(synced) and not trashed(synced, "proxies")


def test_a_filters_block_in_the_receiver_config_is_read(tmp_path, synced):
    path = tmp_path / "receiver.json"
    path.write_text(json.dumps({**config(synced), "filters": {"media_types": ["image"]}}))
    loaded = load_config(str(path))
    assert loaded.webhook_filters.media_types == ("image",)
    assert WebhookHandler(loaded).handle(event("a1", "update", {"id": "a1"}))["deleted_objects"]


@pytest.mark.parametrize("raw, field", [
    ({"webhook_filters": {"status": ["NOPE"]}}, "webhook_filters.status"),
    ({"webhook_filters": {"media": ["video"]}}, "webhook_filters"),
    ({"webhook_filters": ["video"]}, "webhook_filters"),
    ({"webhook_filters": {"path_patterns": ["a[b"]}}, "path_patterns"),
    ({"webhook_filters": {"collection_ids": [1]}}, "collection_ids"),
    ({"webhook_reconcile_updates": "yes"}, "webhook_reconcile_updates"),
    ({"webhook_secret_header": "Bad Header:"}, "webhook_secret_header"),
])
def test_bad_webhook_options_are_config_errors(raw, field):
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    with pytest.raises(AirbyteTracedException) as error:
        parse_config({"bucket_url": "./b", **raw})
    assert field in error.value.message


def test_webhook_options_default_to_the_source_defaults():
    parsed = parse_config({"bucket_url": "./b"})
    assert parsed.webhook_filters.status == ("ACTIVE",) and parsed.webhook_reconcile_updates is True
