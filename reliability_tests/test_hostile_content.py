"""Hostile content (6): titles, collection names, file names and ids built to escape the bucket prefix or
break paths. Everything stays inside the bucket, paths are escaped one consistent way, nothing crashes."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from urllib.parse import quote

from destination_bucket.store import key_part
from iconik_emulator import EmulatorServer, LibraryConfig
from reliability_tests.helpers import Setup, assert_bucket_is_ground_truth
from source_iconik.collections_tree import join_path, split_path

HOSTILE = [
    "AC/DC/../../../../etc/passwd",
    "..",
    "../..",
    "/absolute/path/title",
    "C:\\Windows\\System32",
    "nul\x00byte",
    "control \x01\x07\x1b[31m red \x7f",
    "newline\ninjected\r\nline",
    "\u202eRTL override\u202c \u200f\u200e mark",
    "%2F already escaped %25 and 100%",
    "ü" * 5000,  # 10 kB of UTF-8
    "🎬" * 2600,
    "",
    "   ",
]
HOSTILE_IDS = ["../../outside", "/abs/olute", "..", "a/b/../c"]


def _outside_files(root: Path, bucket: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and bucket not in p.parents}


def test_hostile_titles_collection_names_file_names_and_ids_stay_inside_the_bucket(tmp_path):
    with EmulatorServer(LibraryConfig(assets=30, seed=6), rate_limit=False) as emu:
        lib = emu.state.lib
        # iconik's signed URLs percent-encode the file name; the emulator puts it raw into the URL path,
        # where `../` would be resolved away by the HTTP client. Encode it as iconik does.
        sign = emu.state.sign
        emu.state.sign = lambda base, asset, kind, obj, size, name: sign(base, asset, kind, obj, size,
                                                                          quote(name, safe=""))
        live = sorted(emu.truth.live_asset_ids())
        for asset_id, title in zip(live, HOSTILE, strict=False):
            emu.control.modify_asset(asset_id, title=title)
        with emu.state.lock:
            collections = sorted(lib.collections)
            for collection_id, title in zip(collections, reversed(HOSTILE), strict=False):
                lib.collections[collection_id]["title"] = title
            # proxies whose file names try to climb out of the object's folder
            for asset_id, name in zip(live[-4:], ["../../../escape.mp4", "/etc/cron.d/x", "object.json",
                                                 "..\\..\\win.mp4"], strict=True):
                for proxy in lib.proxies.get(asset_id, []):
                    proxy["filename"] = name
            # assets whose ids are paths (iconik ids are UUIDs, but a key must survive anything)
            template = lib.assets[live[0]]
            for hostile_id in HOSTILE_IDS:
                clone = copy.deepcopy(template)
                clone["id"] = hostile_id
                lib.assets[hostile_id] = clone
                lib.proxies[hostile_id] = []
                lib.files[hostile_id] = []
            for asset_id in list(lib.assets):
                emu.state._reindex(asset_id)

        setup = Setup(emu, tmp_path, source_extra={"page_size": 7})
        before_outside = _outside_files(tmp_path, setup.bucket)
        first = setup.sync()
        assert first.records["assets"] == len(emu.truth.live_asset_ids())
        # nothing written outside the bucket, no symlink, every path resolves under it
        assert _outside_files(tmp_path, setup.bucket) - before_outside == set(
            p for p in tmp_path.glob("state-*.json"))
        root = setup.bucket.resolve()
        for path in setup.bucket.rglob("*"):
            assert not path.is_symlink() and root in path.resolve().parents
            assert "\x00" not in str(path) and len(path.name.encode()) <= 255
        # one folder per asset, named by the encoded id
        folders = {p.name for p in (setup.bucket / "objects" / "assets").iterdir()}
        assert folders == {key_part(i) for i in emu.truth.live_asset_ids()}
        for hostile_id in HOSTILE_IDS:
            doc = json.loads((setup.bucket / "objects" / "assets" / key_part(hostile_id) / "object.json").read_text())
            assert doc["record"]["id"] == hostile_id
        # directory paths: `%` -> %25 and `/` -> %2F inside a title, so every path splits back into its titles
        assert_bucket_is_ground_truth(emu, setup.bucket)
        truth_ids = emu.truth.live_asset_ids() - set(HOSTILE_IDS)
        for asset_id in truth_ids:
            doc = json.loads((setup.bucket / "objects" / "assets" / asset_id / "object.json").read_text())
            record = doc["record"]
            assert record["title"] == emu.truth.asset(asset_id)["title"]
            expected = sorted({join_path(t) for t in emu.truth.collection_title_paths(asset_id)})
            assert record["directory_paths"] == expected
            for path in record["directory_paths"]:
                assert tuple(split_path(path)) in set(emu.truth.collection_title_paths(asset_id))
            for blob in doc["blobs"]:
                blob_path = (setup.bucket / blob["key"]).resolve()
                assert blob_path.parent == (setup.bucket / "objects" / "assets" / asset_id).resolve()
                assert blob_path.name not in ("object.json", "_deleted.json")
        for folder in (setup.bucket / "objects" / "collections").iterdir():
            record = json.loads((folder / "object.json").read_text())["record"]
            titles = [tuple(split_path(p)) for p in record["directory_paths"]]
            assert titles == sorted(emu.truth.collection_title_paths_of_collection(record["id"]),
                                    key=lambda t: join_path(t))

        # a second sync after deleting the hostile ids: they go to the trash, still inside the bucket
        for hostile_id in HOSTILE_IDS[:2]:
            emu.control.purge_asset(hostile_id)
        second = setup.sync(first.final_state())
        assert second.ok
        assert setup.snapshot().trashed["assets"] == {key_part(i) for i in HOSTILE_IDS[:2]}
        assert_bucket_is_ground_truth(emu, setup.bucket)
        assert os.path.commonpath([root, *[p.resolve() for p in setup.bucket.rglob("*")]]) == str(root)
