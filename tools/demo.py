"""`make demo`: the whole product end to end on the embedded defaults.

Starts the bundled iconik emulator on 127.0.0.1, syncs it into the local folder bucket ./demo-bucket
(source-iconik read | destination-bucket write, as Airbyte runs them), changes things in "iconik"
(edits, deletes, a restore, a purge, new assets), syncs again from the saved state, and prints what
happened: records per stream, bucket changes and the API calls each sync cost.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from iconik_emulator import EmulatorServer, LibraryConfig
from tools.bucket_view import BucketView
from tools.pipeline import configured_catalog, discover, run_sync, write_json

ROOT = Path(__file__).resolve().parent.parent


def _sync(label, work, source_config, destination_config, catalog, emu, state=None):
    emu.control.reset_counters()
    state_path = write_json(work / f"state-{label}.json", state) if state else None
    result = run_sync(source_config, destination_config, catalog, state_path)
    if not result.ok:
        print(result.source_log[-3000:], result.destination_log[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"{label} sync failed (source exit {result.source_rc}, destination exit {result.destination_rc})")
    return result, emu.control.counters()


def _print_sync(label, result, counters, before, after):
    print(f"\n== {label} sync ==")
    for stream, count in sorted(result.records.items()):
        print(f"  {stream:<16} {count:>6} records")
    changes = before.changes_to(after)
    print("  bucket: " + ", ".join(f"{name} {len(ids)}" for name, ids in changes.items()))
    print(f"  API calls: {counters['total']} ({counters['status'].get('429', 0)} answered 429)")
    return changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bucket", type=Path, default=ROOT / "demo-bucket")
    args = parser.parse_args()

    work = ROOT / "build" / "demo"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(args.bucket, ignore_errors=True)
    with EmulatorServer(LibraryConfig(assets=args.assets, seed=args.seed)) as emu:
        print(f"iconik emulator on {emu.base_url}: {args.assets} assets (seed {args.seed})")
        source_config = write_json(work / "source.json", {
            "app_id": emu.app_id, "auth_token": emu.auth_token, "base_url": emu.base_url,
        })
        destination_config = write_json(work / "destination.json", {
            "bucket_url": str(args.bucket), "download_files": True, "delete_grace_period_hours": 24,
        })
        catalog = write_json(work / "catalog.json", configured_catalog(discover(source_config)))

        view = BucketView(args.bucket)
        before = view.snapshot()
        first, counters = _sync("first", work, source_config, destination_config, catalog, emu)
        after_first = view.snapshot()
        _print_sync("first", first, counters, before, after_first)

        live = sorted(emu.truth.live_asset_ids())
        edited, deleted, purged = live[:5], live[5:9], live[9:10]
        for asset_id in edited:
            emu.control.modify_asset(asset_id, title=f"{emu.truth.asset(asset_id)['title']} (edited)")
        for asset_id in deleted + purged:
            emu.control.delete_asset(asset_id)
        emu.control.restore_asset(deleted[0])
        for asset_id in purged:
            emu.control.purge_asset(asset_id)
        roots = [c for c in emu.truth.root_collection_ids()][:1]
        added = [emu.control.add_asset(title=f"New upload {n}", collection_ids=roots) for n in range(3)]
        print(f"\nchanges in iconik: {len(edited)} edited, {len(deleted)} deleted then 1 restored, "
              f"{len(purged)} purged, {len(added)} added")

        second, counters = _sync("second", work, source_config, destination_config, catalog, emu,
                                 state=first.final_state())
        after_second = view.snapshot()
        _print_sync("incremental", second, counters, after_first, after_second)

        emu.control.restore_asset(deleted[1])
        print(f"\nchanges in iconik: 1 asset restored from the recycle bin ({deleted[1]})")
        third, counters = _sync("third", work, source_config, destination_config, catalog, emu,
                                state=second.final_state())
        after_third = view.snapshot()
        _print_sync("third (after the restore)", third, counters, after_second, after_third)

        expected_live = emu.truth.live_asset_ids()
        in_bucket = after_third.live_ids("assets")
        print(f"\nbucket {args.bucket}: {len(in_bucket)} live asset objects, iconik has {len(expected_live)} "
              f"live assets: {'in step' if in_bucket == expected_live else 'DIFFERENT'}")
        summary = json.loads((args.bucket / "_meta" / "last_sync.json").read_text())
        print("destination summary of the last sync: " + json.dumps(
            {k: summary[k] for k in ("written", "unchanged", "deleted", "restored", "swept", "purged")}))
        if in_bucket != expected_live:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
