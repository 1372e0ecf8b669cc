"""Faults end to end (1) and crash and resume (2). Fast: 20 seeds, small libraries; SOAK=1: 200 seeds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from reliability_tests.helpers import SOAK
from reliability_tests.scenarios import crash_scenario, fault_scenario

FAULT_SEEDS = list(range(1, 201)) if SOAK else list(range(1, 21))
# Fast: 20 seeds, one full sync each; the soak adds the incremental sync after changes, over 200 seeds.
SIZE = {} if SOAK else {"assets": 24, "page_size": 6, "incremental": False}


def test_the_bucket_equals_iconik_after_syncs_through_faults(tmp_path):
    """5% 5xx, 2% resets, 1% truncated bodies, a 429 burst and slow answers, per seed: 0 missing, 0 extra,
    0 corrupt, no duplicate primary key; a sync the source gives up on deletes nothing iconik holds and a
    rerun converges. Seeds run side by side (the syncs mostly wait on backoff)."""
    with ThreadPoolExecutor(8) as pool:
        figures = list(pool.map(lambda seed: fault_scenario(seed, tmp_path / f"seed-{seed}", **SIZE), FAULT_SEEDS))
    assert all(f["missing"] == f["extra"] == f["corrupt"] == 0 for f in figures)
    assert sum(f["answered_5xx"] + f["connection_resets"] + f["answered_429"] for f in figures) > 0, figures


@pytest.mark.parametrize("target", ["source", "destination"])
def test_kill_9_and_resume_from_the_echoed_state_converges(tmp_path, target):
    seeds = range(1, 11) if SOAK else [7]
    for seed in seeds:
        figures = crash_scenario(seed, tmp_path / f"seed-{seed}", target, assets=60 if SOAK else 40,
                                 kills=3 if SOAK else 2)
        assert figures["final_incomplete_streams"] == []
