"""Throughput of the emulator (not a test): 4 threads of requests.Session for ~5 s, latency and rate limit off.

Run: .venv/bin/python emulator_tests/measure_throughput.py [seconds] [threads]
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from iconik_emulator import EmulatorServer, LibraryConfig  # noqa: E402

PATHS = ("/API/users/v1/users/current/", "/API/assets/v1/assets/?per_page=10", "/API/metadata/v1/views/")


def main(seconds: float = 5.0, threads: int = 4) -> None:
    with EmulatorServer(LibraryConfig(assets=500, seed=7), latency_ms=0, rate_limit=False) as emu:
        headers = {"App-ID": emu.app_id, "Auth-Token": emu.auth_token}
        counts = [0] * threads
        errors = [0] * threads
        deadline = time.monotonic() + seconds

        def worker(n: int) -> None:
            session = requests.Session()
            session.headers.update(headers)
            i = 0
            while time.monotonic() < deadline:
                response = session.get(emu.base_url + PATHS[i % len(PATHS)], timeout=30)
                i += 1
                if response.status_code == 200:
                    counts[n] += 1
                else:
                    errors[n] += 1

        started = time.monotonic()
        pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        elapsed = time.monotonic() - started
        total = sum(counts)
        print(f"{total} requests in {elapsed:.2f} s from {threads} threads: {total / elapsed:.0f} requests/s "
              f"({sum(errors)} non-200)")


if __name__ == "__main__":
    main(*(float(a) for a in sys.argv[1:2]), *(int(a) for a in sys.argv[2:3]))
