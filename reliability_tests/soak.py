"""`make soak`: the full reliability runs, with figures.

    SOAK=1 python -m reliability_tests.soak [--seeds 200] [--crash-seeds 5] [--load 200000] [--skip-pytest]

1. faults: the fault scenario over `--seeds` seeds (missing / extra / corrupt per seed, failed syncs);
2. crash and resume: kill -9 of the source and of the destination, `--crash-seeds` seeds each, 3 kills;
3. load: `--load` asset records from an emulator in its own process through read | write, sampling the
   resident memory of both connector processes as the sync runs;
4. the rest of reliability_tests with SOAK=1 (every bad-input case through the real executables).
Figures are printed and written to build/reliability-figures.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from iconik_emulator.server import free_port
from reliability_tests.helpers import Timer, catalog
from reliability_tests.scenarios import crash_scenario, fault_scenario
from tools.pipeline import run_sync, write_json
from tools.processes import stop

ROOT = Path(__file__).resolve().parent.parent
APP_ID, TOKEN = "5f0c4b8e-6a1d-11ef-9c2a-0242ac120002", "emulator-token-0123456789abcdef"


def _rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    """Samples the RSS of this process's children named source-iconik / destination-bucket."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval, self.samples = interval, {"source": [], "destination": []}
        self.stop_event = threading.Event()

    def children(self) -> dict[str, int]:
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                cmdline = (entry / "cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
            if ppid == os.getpid():
                if b"source-iconik" in cmdline:
                    found["source"] = int(entry.name)
                elif b"destination-bucket" in cmdline:
                    found["destination"] = int(entry.name)
        return found

    def run(self) -> None:
        start = time.monotonic()
        while not self.stop_event.wait(self.interval):
            for name, pid in self.children().items():
                rss = _rss_kb(pid)
                if rss:
                    self.samples[name].append((time.monotonic() - start, rss))

    def summary(self) -> dict:
        out = {}
        for name, samples in self.samples.items():
            if not samples:
                continue
            rss = [r for _, r in samples]
            n = len(rss)
            out[name] = {"peak_mb": round(max(rss) / 1024, 1), "at_10pct_mb": round(rss[n // 10] / 1024, 1),
                         "at_50pct_mb": round(rss[n // 2] / 1024, 1), "at_90pct_mb": round(rss[9 * n // 10] / 1024, 1),
                         "samples": n}
        return out


def load_scenario(records: int, tmp: Path) -> dict:
    """`records` assets through source-iconik read | destination-bucket write (object.json per record, no
    file downloads), the emulator in a process of its own so it does not share the test's interpreter."""
    port = free_port()
    emulator = subprocess.Popen([sys.executable, "-m", "iconik_emulator", "--port", str(port), "--assets",
                                 str(records), "--seed", "1", "--rate-limit", "off", "--media-size", "256"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    figures: dict = {"records_wanted": records}
    try:
        with Timer() as boot:
            while True:
                try:
                    if requests.get(f"{base}/API/users/v1/users/current/", timeout=5,
                                    headers={"App-ID": APP_ID, "Auth-Token": TOKEN}).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if emulator.poll() is not None:
                    raise RuntimeError(emulator.stderr.read().decode()[-2000:])
                time.sleep(1)
        figures["emulator_start_seconds"] = round(boot.seconds, 1)
        source = write_json(tmp / "source.json", {"app_id": APP_ID, "auth_token": TOKEN, "base_url": base,
                                                  "page_size": 1000, "max_collection_depth": 50})
        bucket = tmp / "bucket"
        destination = write_json(tmp / "destination.json", {"bucket_url": str(bucket), "download_files": False,
                                                            "download_concurrency": 8})
        cat = catalog(tmp, ("assets",))
        sampler = MemorySampler()
        sampler.start()
        with Timer() as sync:
            result = run_sync(source, destination, cat)
        sampler.stop_event.set()
        sampler.join()
        figures.update({
            "ok": result.ok, "records": result.records["assets"], "sync_seconds": round(sync.seconds, 1),
            "records_per_second": round(result.records["assets"] / sync.seconds),
            "objects_in_bucket": sum(1 for _ in (bucket / "objects" / "assets").iterdir()),
            "memory": sampler.summary(),
        })
        if not result.ok:
            figures["error"] = (result.source_log[-1500:] + result.destination_log[-1500:])
    finally:
        stop(emulator, timeout=30)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m reliability_tests.soak")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--crash-seeds", type=int, default=5)
    parser.add_argument("--load", type=int, default=200_000)
    parser.add_argument("--skip-pytest", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "build" / "reliability-figures.json"))
    args = parser.parse_args()
    os.environ["SOAK"] = "1"
    figures: dict = {}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        out.write_text(json.dumps(figures, indent=2))
        print(json.dumps(figures, indent=2), flush=True)

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp_dir:
        tmp = Path(tmp_dir)
        if args.seeds:
            with Timer() as timer, ThreadPoolExecutor(8) as pool:
                runs = list(pool.map(lambda s: fault_scenario(s, tmp / f"fault-{s}"), range(1, args.seeds + 1)))
            figures["faults"] = {
                "seeds": len(runs), "seconds": round(timer.seconds, 1),
                "missing": sum(r["missing"] for r in runs), "extra": sum(r["extra"] for r in runs),
                "corrupt": sum(r["corrupt"] for r in runs), "syncs": sum(r["syncs"] for r in runs),
                "failed_syncs_then_rerun": sum(r.get("failed_syncs", 0) for r in runs),
                "requests": sum(r["requests"] for r in runs), "answered_5xx": sum(r["answered_5xx"] for r in runs),
                "answered_429": sum(r["answered_429"] for r in runs),
                "connection_resets": sum(r["connection_resets"] for r in runs), "per_seed": runs}
            save()
        if args.crash_seeds:
            crash = []
            for target in ("source", "destination"):
                for seed in range(1, args.crash_seeds + 1):
                    crash.append(crash_scenario(seed, tmp / f"crash-{target}-{seed}", target, kills=3))
            figures["crash"] = {"runs": len(crash), "all_converged": all(not c["final_incomplete_streams"]
                                                                         for c in crash), "per_run": crash}
            save()
        if args.load:
            figures["load"] = load_scenario(args.load, tmp / "load")
            save()
    if not args.skip_pytest:
        with Timer() as timer:
            done = subprocess.run([sys.executable, "-m", "pytest", "reliability_tests", "-q", "-p", "no:cacheprovider",
                                   "-k", "not faults and not kill_9"], cwd=ROOT, env={**os.environ, "SOAK": "1"})
        figures["pytest_soak"] = {"exit_code": done.returncode, "seconds": round(timer.seconds, 1)}
        save()
    failed = (figures.get("faults", {}).get("missing") or figures.get("load", {}).get("ok") is False
              or figures.get("pytest_soak", {}).get("exit_code"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
