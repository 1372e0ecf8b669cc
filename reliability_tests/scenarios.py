"""The end-to-end scenarios behind the fault and crash tests, sized by the caller (fast test or soak).

Each returns its figures as a dict and raises AssertionError on any violated guarantee.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from iconik_emulator import EmulatorServer, Faults, LibraryConfig
from reliability_tests.helpers import (
    Setup,
    Timer,
    assert_bucket_is_ground_truth,
    bucket_problems,
    duplicate_keys,
    failure_text,
    integrity_problems,
    merge_states,
    tmp_leftovers,
)

# The fault mix: 5% 5xx, 2% connection resets, 1% truncated bodies, a 429 burst, slow answers.
FAULT_MIX = {"error_rate": 0.05, "reset_rate": 0.02, "truncate_rate": 0.01, "slow_rate": 0.02, "slow_ms": 400.0,
             "burst_429": 3}
MAX_ATTEMPTS = 4


def wrongful_deletes(setup: Setup, before, after) -> set[str]:
    """Objects that left the bucket's live set although iconik still holds the asset."""
    return (before.live_ids("assets") - after.live_ids("assets")) & setup.emu.truth.live_asset_ids()


def sync_until_ok(setup: Setup, state: list | None, figures: dict, **options):
    """Sync, and after a failed sync (the source gave up on a request) check that it deleted nothing iconik
    still holds and rerun from the merged echoed states, as a scheduler would."""
    for _ in range(MAX_ATTEMPTS):
        before = setup.snapshot()
        result = setup.sync(state, check=False, keep_keys=True, **options)
        after = setup.snapshot()
        wrong = wrongful_deletes(setup, before, after)
        assert not wrong, f"deleted live assets {sorted(wrong)[:5]}\n{failure_text(result)}"
        assert not bucket_problems(setup.emu, setup.bucket)["temp_files"]
        state = merge_states(state, result.final_state())
        figures["syncs"] = figures.get("syncs", 0) + 1
        if result.ok:
            return result, state
        figures["failed_syncs"] = figures.get("failed_syncs", 0) + 1
        figures.setdefault("failures", []).append(result.source_log[-300:].strip().splitlines()[-1:])
    raise AssertionError(f"no successful sync in {MAX_ATTEMPTS} attempts\n{failure_text(result)}")


def change_library(emu: EmulatorServer, rng: random.Random) -> dict:
    """Edits, soft deletes (tombstones), one purge (only the inventory sweep can remove it), one new asset."""
    live = sorted(emu.truth.live_asset_ids())
    rng.shuffle(live)
    edited, deleted, purged = live[:3], live[3:5], live[5:6]
    for asset_id in edited:
        emu.control.modify_asset(asset_id, title=f"edited {asset_id[:8]}")
    for asset_id in deleted:
        emu.control.delete_asset(asset_id)
    for asset_id in purged:
        emu.control.purge_asset(asset_id)
    added = emu.control.add_asset(title="added under faults", collection_ids=emu.truth.root_collection_ids()[:1])
    return {"edited": edited, "deleted": deleted, "purged": purged, "added": [added]}


def fault_scenario(seed: int, tmp: Path, assets: int = 40, page_size: int = 5, incremental: bool = True) -> dict:
    """A full sync and (with `incremental`) an incremental one after edits, deletes, a purge and an
    addition, against an emulator with the fault mix; every sync is retried until it succeeds, then the
    bucket must equal iconik."""
    figures: dict = {"seed": seed, "assets": assets}
    faults = Faults(seed=seed, **FAULT_MIX)
    with EmulatorServer(LibraryConfig(assets=assets, seed=seed), faults=faults) as emu, Timer() as timer:
        setup = Setup(emu, tmp, source_extra={"page_size": page_size})
        first, state = sync_until_ok(setup, None, figures)
        assert_bucket_is_ground_truth(emu, setup.bucket)
        assert not duplicate_keys(first), duplicate_keys(first)[:5]
        assert {k for s, k in first.record_keys if s == "assets"} == emu.truth.live_asset_ids()
        if incremental:
            change_library(emu, random.Random(seed))
            second, state = sync_until_ok(setup, state, figures)
            assert_bucket_is_ground_truth(emu, setup.bucket)
            assert not duplicate_keys(second), duplicate_keys(second)[:5]
        statuses = emu.control.counters()["status"]
    figures["seconds"] = round(timer.seconds, 1)
    figures["requests"] = sum(statuses.values())
    figures["answered_5xx"] = sum(v for k, v in statuses.items() if k in ("500", "502", "503"))
    figures["answered_429"] = statuses.get("429", 0)
    figures["connection_resets"] = statuses.get("599", 0)
    figures["missing"] = figures["extra"] = figures["corrupt"] = 0  # asserted above
    return figures


def crash_scenario(seed: int, tmp: Path, target: str, assets: int = 60, kills: int = 2) -> dict:
    """Kill -9 the source or the destination `kills` times at random record counts (the library changing
    in between), resume each time from the last echoed states, then finish: the bucket equals iconik."""
    assert target in ("source", "destination")
    figures: dict = {"seed": seed, "target": target, "assets": assets, "kill_points": []}
    rng = random.Random(seed)
    with EmulatorServer(LibraryConfig(assets=assets, seed=seed), rate_limit=False) as emu, Timer() as timer:
        setup = Setup(emu, tmp, source_extra={"page_size": 10})
        state: list | None = None
        for kill in range(kills):
            point = rng.randint(0, 3 * assets)
            figures["kill_points"].append(point)
            before = setup.snapshot()
            option = {f"kill_{target}_after": point}
            result = setup.sync(state, check=False, **option)
            after = setup.snapshot()
            wrong = wrongful_deletes(setup, before, after)
            assert not wrong, f"a killed sync deleted live assets {sorted(wrong)[:5]}"
            assert not bucket_problems(emu, setup.bucket)["temp_files"]
            assert not integrity_problems(setup.bucket), integrity_problems(setup.bucket)[:5]
            state = merge_states(state, result.final_state())
            if kill == 0:
                change_library(emu, rng)
        figures["tmp_leftovers_after_kills"] = tmp_leftovers(setup.bucket)
        final = setup.sync(state)
        assert final.ok
        assert_bucket_is_ground_truth(emu, setup.bucket, tmp_allowed=(target == "destination"))
        figures["tmp_leftovers_final"] = tmp_leftovers(setup.bucket)
        summary = json.loads((setup.bucket / "_meta" / "last_sync.json").read_text())
        figures["final_incomplete_streams"] = summary["incomplete_streams"]
    figures["seconds"] = round(timer.seconds, 1)
    return figures
