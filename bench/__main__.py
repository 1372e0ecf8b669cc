"""python -m bench [--quick | --full] [--only B1,B3] : run the benchmarks, print a table, write bench/results.md.

The source always runs as its own process (`python -m source_iconik.run read ...`), exactly as the platform
runs it, with its stdout read line by line here; the emulator runs in this process. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.baseline import BaselineClient
from bench.replay import ReplayProxy
from iconik_emulator import EmulatorServer, LibraryConfig

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.md"
README = Path(__file__).resolve().parent / "README.md"
TABLE_START, TABLE_END = "<!-- results:start -->", "<!-- results:end -->"

SIZES = {
    "quick": {"b1": 2000, "b1_baseline": 25, "b2": 1000, "b3": 10_000, "b4": 20_000, "b4_file_mb": 200,
              "b5": 20_000},
    "full": {"b1": 10_000, "b1_baseline": 150, "b2": 10_000, "b3": 50_000, "b4": 100_000, "b4_file_mb": 1024,
             "b5": 100_000},
}
VIEWS = 5
SEED = 7


# ---- running the source ---------------------------------------------------------------------------------
def stream_entry(name: str, sync_mode: str = "full_refresh") -> dict:
    return {"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
            "sync_mode": sync_mode, "destination_sync_mode": "append_dedup" if sync_mode == "incremental"
            else "overwrite", "primary_key": [["id"]]}


@dataclass
class SourceRun:
    seconds: float = 0.0
    records: int = 0
    by_stream: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)  # stream -> last stream_state
    peak_rss_mb: float = 0.0
    cpu_seconds: float = 0.0
    counters: dict = field(default_factory=dict)
    sustained_rps: float | None = None
    returncode: int = 0
    first_record: float = 0.0
    last_record: float = 0.0


class CounterSampler:
    """Polls the emulator's request counter twice a second (the control API is not counted)."""

    def __init__(self, control, interval: float = 0.5):
        self.control, self.interval = control, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self.control.counters()["total"]))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def sustained(self) -> float | None:
        """Requests/s between the moments 10 % and 90 % of all requests had been made."""
        if len(self.samples) < 4:
            return None
        final = self.samples[-1][1]
        start = next((s for s in self.samples if s[1] >= 0.1 * final), None)
        end = next((s for s in self.samples if s[1] >= 0.9 * final), None)
        if not start or not end or end[0] - start[0] < 1.0:
            return None
        return (end[1] - start[1]) / (end[0] - start[0])


def run_source(config: dict, streams: list[dict], state: list | None = None, emu=None,
               capture: Path | None = None) -> SourceRun:
    """One `read` of the real source in a child process; records counted, states kept, rusage read."""
    work = Path(tempfile.mkdtemp(prefix="bench-src-"))
    (work / "config.json").write_text(json.dumps(config))
    (work / "catalog.json").write_text(json.dumps({"streams": streams}))
    command = [sys.executable, "-m", "source_iconik.run", "read", "--config", str(work / "config.json"),
               "--catalog", str(work / "catalog.json")]
    if state is not None:
        (work / "state.json").write_text(json.dumps(state))
        command += ["--state", str(work / "state.json")]
    result = SourceRun()
    if emu is not None:
        emu.control.reset_counters()
    sampler = CounterSampler(emu.control) if emu is not None else None
    out = capture.open("wb") if capture else None
    if sampler:
        sampler.__enter__()
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    peak = work / "peak.txt"
    process = subprocess.Popen([sys.executable, "-m", "bench.peak", str(peak), *command], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, cwd=ROOT, env=env, bufsize=1 << 20)
    counts: dict[str, int] = {}
    for line in process.stdout:
        if out:
            out.write(line)
        if line.startswith(b'{"type":"RECORD"'):
            result.last_record = time.perf_counter()
            if not result.first_record:
                result.first_record = result.last_record
            # '{"type":"RECORD","record":{"stream":"<name>",...' - the name without parsing the record
            head = line[37:100]
            name = head[:head.find(b'"')].decode()
            counts[name] = counts.get(name, 0) + 1
        elif line.startswith(b'{"type":"STATE"'):
            message = json.loads(line)
            stream = message["state"].get("stream") or {}
            result.states[stream["stream_descriptor"]["name"]] = stream.get("stream_state")
    process.wait()
    result.seconds = time.perf_counter() - started
    max_rss, user, system, _ = peak.read_text().split()
    if sampler:
        sampler.__exit__()
        result.sustained_rps = sampler.sustained()
    if out:
        out.close()
    result.returncode = process.returncode
    result.by_stream = counts
    result.records = sum(counts.values())
    result.peak_rss_mb = int(max_rss) / 1024  # KiB on Linux
    result.cpu_seconds = float(user) + float(system)
    if emu is not None:
        result.counters = emu.control.counters()
    if result.returncode != 0:
        raise RuntimeError(f"source-iconik exited with {result.returncode}: {' '.join(command)}")
    return result


def run_source_startup() -> float:
    """CPU seconds of a bare `spec` run: the CDK's import and start-up cost, paid once per process."""
    peak = Path(tempfile.mkdtemp(prefix="bench-spec-")) / "peak.txt"
    subprocess.run([sys.executable, "-m", "bench.peak", str(peak), sys.executable, "-m", "source_iconik.run", "spec"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    _, user, system, _ = peak.read_text().split()
    return float(user) + float(system)


def source_config(emu, **extra) -> dict:
    return {"app_id": emu.app_id, "auth_token": emu.auth_token, "base_url": emu.base_url, **extra}


def throttled(counters: dict) -> int:
    return int(counters.get("status", {}).get("429", 0))


def state_messages(states: dict) -> list[dict]:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": value}}
            for name, value in states.items() if value]


# ---- rows of the results table ---------------------------------------------------------------------------
ROWS: list[tuple[str, str, str, str]] = []  # (benchmark, measure, result, target / note)


def row(bench: str, measure: str, value: str, target: str = "") -> None:
    ROWS.append((bench, measure, value, target))
    print(f"  {bench:<4} {measure:<58} {value:<28} {target}", flush=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# ---- B1 / B2: full sync against latency and the rate limit ----------------------------------------------
def b1(sizes: dict) -> None:
    n, subset = sizes["b1"], sizes["b1_baseline"]
    print(f"B1: full sync of {n} assets, {VIEWS} views, 100 ms latency, rate limit on", flush=True)
    with EmulatorServer(LibraryConfig(assets=n, seed=SEED, views=VIEWS), latency_ms=100, rate_limit=True,
                        embed_proxies=True) as emu:
        run = run_source(source_config(emu), [stream_entry("assets")], emu=emu)
        calls = run.counters["total"]
        time.sleep(1)  # not part of either measurement; lets the bucket settle a little
        emu.control.set_limits(rate_limit=True)  # resets the bucket: the baseline starts with a full budget
        emu.control.reset_counters()
        base = BaselineClient(emu.base_url, emu.app_id, emu.auth_token).run(limit=subset)
        base_counters = emu.control.counters()
    pages = math.ceil(n / 100)
    per_asset = base.asset_seconds / base.assets
    per_page = base.list_seconds / max(1, base.list_calls)
    base_seconds = per_asset * n + per_page * pages
    base_calls_per_asset = (base.calls - base.list_calls - 1) / base.assets
    ratio = base_seconds / run.seconds
    assert run.by_stream.get("assets") == n, run.by_stream
    row("B1", f"source-iconik: wall time, {n} assets", f"{run.seconds:.1f} s ({n / run.seconds:.0f} assets/s)")
    row("B1", "source-iconik: API calls per asset",
        f"{calls / n:.4f} ({calls} calls)", f"<= 0.05: {verdict(calls / n <= 0.05)}")
    row("B1", "source-iconik: calls by endpoint", ", ".join(f"{k} {v}" for k, v in sorted(
        run.counters["by_endpoint"].items())))
    row("B1", "source-iconik: achieved requests/s (whole run)", f"{calls / run.seconds:.1f}")
    row("B1", "source-iconik: 429 answers", str(throttled(run.counters)))
    row("B1", f"baseline: measured on first {base.assets} assets",
        f"{base.asset_seconds:.1f} s, {base_calls_per_asset:.1f} calls/asset, "
        f"{base.calls / base.seconds:.1f} req/s, 429s {throttled(base_counters)}")
    row("B1", f"baseline: wall time, {n} assets (extrapolated)", f"{base_seconds:.0f} s",
        f"{per_asset:.3f} s/asset x {n} + {pages} list pages")
    row("B1", "speed-up source-iconik vs baseline", f"{ratio:.0f}x", f">= 20x: {verdict(ratio >= 20)}")


def b2(sizes: dict) -> None:
    n = sizes["b2"]
    print(f"B2: full sync of {n} assets, proxies NOT embedded in search (one proxies call per asset)", flush=True)
    with EmulatorServer(LibraryConfig(assets=n, seed=SEED, views=VIEWS), latency_ms=100, rate_limit=True,
                        embed_proxies=False) as emu:
        run = run_source(source_config(emu), [stream_entry("assets")], emu=emu)
    calls, hits = run.counters["total"], throttled(run.counters)
    sustained = run.sustained_rps or 0.0
    assert run.by_stream.get("assets") == n, run.by_stream
    row("B2", f"source-iconik: wall time, {n} assets", f"{run.seconds:.1f} s")
    row("B2", "source-iconik: API calls", f"{calls} ({calls / n:.2f} per asset)")
    row("B2", "achieved requests/s, sustained (10 %-90 % of calls)", f"{sustained:.1f}",
        f">= 45 of the 50/s limit: {verdict(sustained >= 45)}")
    row("B2", "achieved requests/s, whole run incl. start-up", f"{calls / run.seconds:.1f}")
    row("B2", "429 answers", f"{hits} ({100 * hits / max(1, calls):.2f} %)",
        f"<= 0.5 %: {verdict(hits <= 0.005 * calls)}")


# ---- B3: CPU ------------------------------------------------------------------------------------------------
def b3(sizes: dict) -> None:
    n = sizes["b3"]
    print(f"B3: CPU, {n} assets, latency 0, rate limit off", flush=True)
    capture = Path(tempfile.mkdtemp(prefix="bench-b3-")) / "messages.jsonl"
    with EmulatorServer(LibraryConfig(assets=n, seed=SEED, views=VIEWS), latency_ms=0, rate_limit=False,
                        embed_proxies=True) as emu:
            # proxy_only: no per-asset calls at all, so the run measures CPU, not the 50/s API budget. The first
        # read goes through a record-and-replay proxy to the emulator; the second gets the same answers from
        # memory, so its time is the source's own and not the emulator's page building.
        with ReplayProxy(emu.base_url) as proxy:
            config = {**source_config(emu, file_preference="proxy_only"), "base_url": proxy.base_url}
            live = run_source(config, [stream_entry("assets")])
            run = run_source(config, [stream_entry("assets")], capture=capture)
            assert proxy.misses == len(proxy.cache) and proxy.hits >= proxy.misses, (proxy.hits, proxy.misses)
        startup = run_source_startup()
    assert run.by_stream.get("assets") == n == live.by_stream.get("assets"), (run.by_stream, live.by_stream)
    rate = n / run.seconds
    steady = (n - 1) / max(1e-9, run.last_record - run.first_record)
    row("B3", f"source-iconik records/s, {n} assets (proxy_only; answers replayed from memory)",
        f"{rate:,.0f} ({run.seconds:.1f} s incl. {startup:.1f} s start-up)", f">= 5,000: {verdict(rate >= 5000)}")
    row("B3", "  same, first to last record (start-up excluded)", f"{steady:,.0f}")
    row("B3", "  source CPU per record (start-up CPU subtracted)",
        f"{1e6 * max(0.0, run.cpu_seconds - startup) / n:.0f} us ({run.cpu_seconds:.1f} s CPU in all)")
    row("B3", "  same read with the live emulator answering (for reference)",
        f"{n / live.seconds:,.0f} records/s ({live.seconds:.1f} s)", "emulator builds ~5k docs/s on 1 core")

    import orjson

    from destination_bucket.config import parse_config
    from destination_bucket.sync import SyncWriter

    bucket = Path(tempfile.mkdtemp(prefix="bench-b3-bucket-"))
    catalog = {"streams": [stream_entry("assets", "incremental")]}

    def messages():
        with capture.open("rb") as handle:
            for line in handle:
                if line.startswith(b"{"):
                    yield orjson.loads(line)

    writer = SyncWriter(parse_config({"bucket_url": str(bucket), "download_files": False}), catalog)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in writer.run(messages()):
        pass
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    written = writer.outcomes["written"]
    assert written == n, writer.outcomes
    rate = written / seconds
    row("B3", f"destination-bucket objects/s ({written} objects, local folder, no downloads)",
        f"{rate:,.0f} ({seconds:.1f} s, CPU {cpu:.1f} s)", f">= 2,000: {verdict(rate >= 2000)}")
    subprocess.run(["rm", "-rf", str(bucket), str(capture.parent)], check=False)


# ---- B4: memory, B5: incremental with nothing changed ------------------------------------------------------
INCREMENTAL_STREAMS = [stream_entry("assets", "incremental"), stream_entry("deleted_assets", "incremental"),
                       stream_entry("asset_inventory", "incremental")]


def b4_b5(sizes: dict, which: set[str]) -> None:
    n = max(sizes["b4"], sizes["b5"]) if "B4" in which else sizes["b5"]
    print(f"B4/B5: {n} assets: full sync (memory), then an incremental sync with nothing changed", flush=True)
    with EmulatorServer(LibraryConfig(assets=n, seed=SEED, views=VIEWS), latency_ms=0, rate_limit=False,
                        embed_proxies=True) as emu:
        first = run_source(source_config(emu, file_preference="proxy_only"), INCREMENTAL_STREAMS, emu=emu)
        if "B4" in which:
            row("B4", f"source-iconik peak RSS, full sync of {n} assets (3 streams)", f"{first.peak_rss_mb:.0f} MB",
                f"< 250 MB: {verdict(first.peak_rss_mb < 250)}")
            row("B4", "  (same run) records, wall time", f"{first.records} in {first.seconds:.1f} s")
        if "B5" in which:
            emu.control.set_limits(latency_ms=100, rate_limit=True)
            second = run_source(source_config(emu), INCREMENTAL_STREAMS, state=state_messages(first.states), emu=emu)
            ends = second.counters["by_endpoint"]
            pages = math.ceil(n / 1000)
            beyond = second.counters["total"] - pages
            row("B5", f"incremental sync, {n} assets, nothing changed: wall time",
                f"{second.seconds:.1f} s", "100 ms latency, rate limit on")
            row("B5", "API calls (inventory pages + the rest)",
                f"{second.counters['total']} = {pages} + {beyond}",
                f"<= 5 beyond the inventory pages: {verdict(beyond <= 5)}")
            row("B5", "calls by endpoint", ", ".join(f"{k} {v}" for k, v in sorted(ends.items())))
            row("B5", "records emitted (assets / inventory ids)",
                f"{second.by_stream.get('assets', 0)} / {second.by_stream.get('asset_inventory', 0)}")
    if "B4" in which:
        b4_destination(sizes["b4_file_mb"])


class _BigFile(BaseHTTPRequestHandler):
    size = 0
    block = bytes(range(256)) * 4096  # 1 MiB

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(self.size))
        self.end_headers()
        left = self.size
        while left > 0:
            chunk = self.block[:left]
            self.wfile.write(chunk)
            left -= len(chunk)

    def log_message(self, *args):
        pass


def b4_destination(megabytes: int) -> None:
    size = megabytes << 20
    handler = type("BigFile", (_BigFile,), {"size": size})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="bench-b4-"))
    url = f"http://127.0.0.1:{server.server_address[1]}/big.mp4"
    (work / "config.json").write_text(json.dumps({"bucket_url": str(work / "bucket"), "download_files": True}))
    (work / "catalog.json").write_text(json.dumps({"streams": [stream_entry("assets", "incremental")]}))
    emitted = 1_700_000_000_000
    messages = [
        {"type": "RECORD", "record": {"stream": "assets", "emitted_at": emitted, "data": {
            "id": "big", "title": "big", "date_modified": "2026-01-01T00:00:00Z", "file_url": url,
            "file_name": "big.mp4", "file_size": size}}},
        {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "assets"},
                                                                  "stream_state": {"date_modified": "x"}}}},
        {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": emitted, "stream_status": {
            "stream_descriptor": {"name": "assets"}, "status": "COMPLETE"}}},
    ]
    (work / "input.jsonl").write_text("".join(json.dumps(m) + "\n" for m in messages))
    command = [sys.executable, "-m", "destination_bucket.run", "write", "--config", str(work / "config.json"),
               "--catalog", str(work / "catalog.json")]
    started = time.perf_counter()
    with (work / "input.jsonl").open("rb") as stdin:
        subprocess.run([sys.executable, "-m", "bench.peak", str(work / "peak.txt"), *command], stdin=stdin,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    seconds = time.perf_counter() - started
    server.shutdown()
    written = sum(f.stat().st_size for f in (work / "bucket").rglob("big.mp4"))
    max_rss, _, _, code = (work / "peak.txt").read_text().split()
    rss = int(max_rss) / 1024
    ok = code == "0" and written == size
    row("B4", f"destination-bucket peak RSS, one {megabytes} MB file downloaded",
        f"{rss:.0f} MB ({seconds:.1f} s, {megabytes / seconds:.0f} MB/s)",
        f"< 200 MB: {verdict(rss < 200 and ok)}" + ("" if ok else " (download FAILED)"))
    subprocess.run(["rm", "-rf", str(work)], check=False)


# ---- output --------------------------------------------------------------------------------------------------
def table(mode: str, seconds: float) -> str:
    lines = [f"Mode `--{mode}`, measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'} "
             f"({os.cpu_count()} cores, Python {platform.python_version()}), whole run {seconds:.0f} s.", "",
             "| | Measure | Result | Target / note |", "|---|---|---|---|"]
    lines += [f"| {b} | {m} | {v} | {t} |" for b, m, v, t in ROWS]
    return "\n".join(lines) + "\n"


def _update_tables(path: Path, mode: str, text: str) -> None:
    """Replace the `--mode` table between the results markers of `path`, keeping the other mode's table."""
    if not path.exists():
        path.write_text(f"# Benchmark results (`python -m bench`)\n\nWritten by `python -m bench`; see README.md."
                        f"\n\n{TABLE_START}\n{TABLE_END}\n")
    document = path.read_text()
    start, end = document.find(TABLE_START), document.find(TABLE_END)
    if start == -1 or end == -1:
        return
    block = document[start + len(TABLE_START):end]
    sections = {}
    for m in ("quick", "full"):
        s, e = block.find(f"<!-- {m} -->"), block.find(f"<!-- /{m} -->")
        sections[m] = block[s + len(f"<!-- {m} -->"):e].strip("\n") if s != -1 and e != -1 else ""
    sections[mode] = text.strip("\n")
    body = "".join(f"\n### `--{m}`\n\n<!-- {m} -->\n{sections[m] or '(not run yet)'}\n<!-- /{m} -->\n"
                   for m in ("quick", "full"))
    path.write_text(document[:start + len(TABLE_START)] + body + document[end:])


def write_results(mode: str, seconds: float, which: set[str]) -> None:
    text = table(mode, seconds)
    if which != {"B1", "B2", "B3", "B4", "B5"}:
        partial = RESULTS.with_name(f"results-partial-{mode}.md")
        partial.write_text(f"# Partial run ({', '.join(sorted(which))})\n\n{text}")
        print(f"Partial run: wrote {partial.relative_to(ROOT)} (results.md and README.md keep full runs only)")
        return
    for path in (RESULTS, README):
        if path.exists() or path == RESULTS:
            _update_tables(path, mode, text)
            print(f"Updated the --{mode} table in {path.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, under 3 minutes (the default)")
    mode.add_argument("--full", action="store_true", help="the issue's sizes (10k-100k assets; about 25 min)")
    parser.add_argument("--only", default="B1,B2,B3,B4,B5", help="comma-separated subset, e.g. B1,B3")
    args = parser.parse_args(argv)
    name = "full" if args.full else "quick"
    sizes = SIZES[name]
    which = {b.strip().upper() for b in args.only.split(",") if b.strip()}
    started = time.perf_counter()
    if "B1" in which:
        b1(sizes)
    if "B2" in which:
        b2(sizes)
    if "B3" in which:
        b3(sizes)
    if which & {"B4", "B5"}:
        b4_b5(sizes, which)
    seconds = time.perf_counter() - started
    print()
    print(table(name, seconds))
    write_results(name, seconds, which)


if __name__ == "__main__":
    main()
