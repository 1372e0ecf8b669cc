"""Run a sync the way Airbyte does: `source-iconik read | destination-bucket write`, as two processes.

Used by the demo, the end-to-end tests and the benchmarks. The parent only relays the source's stdout to
the destination's stdin (counting records per stream on the way) and keeps the destination's echoed
STATE messages, which are the only states a platform may persist.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent

# The sync mode each stream runs in by default (stream name -> (sync_mode, destination_sync_mode)).
DEFAULT_MODES = {
    "assets": ("incremental", "append_dedup"),
    "collections": ("full_refresh", "overwrite"),
    "metadata_views": ("full_refresh", "overwrite"),
    "proxies": ("incremental", "append_dedup"),
    "deleted_assets": ("incremental", "append_dedup"),
    "asset_inventory": ("full_refresh", "append"),
}


@dataclass
class SyncResult:
    source_rc: int
    destination_rc: int
    records: Counter = field(default_factory=Counter)
    states: list[dict] = field(default_factory=list)  # the destination's echoed STATE messages
    source_log: str = ""
    destination_log: str = ""
    record_keys: list[tuple[str, object]] = field(default_factory=list)  # (stream, data["id"]) with keep_keys

    @property
    def ok(self) -> bool:
        return self.source_rc == 0 and self.destination_rc == 0

    def final_state(self) -> list[dict]:
        """The last echoed state of each stream, in the per-stream form `read --state` takes."""
        latest: dict[str, dict] = {}
        for message in self.states:
            state = message["state"]
            if state.get("type") == "STREAM":
                name = state["stream"]["stream_descriptor"]["name"]
                latest[name] = {"type": "STREAM", "stream": state["stream"]}
        return list(latest.values())


def write_json(path: Path, value) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2))
    return path


def discover(config_path: Path) -> dict:
    done = subprocess.run(
        [str(BIN / "source-iconik"), "discover", "--config", str(config_path)],
        capture_output=True, text=True, check=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("{") and '"CATALOG"' in line:
            return json.loads(line)["catalog"]
    raise RuntimeError(f"discover printed no catalog:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def configured_catalog(catalog: dict, modes: dict[str, tuple[str, str]] | None = None) -> dict:
    """Configure every discovered stream that `modes` names, in the modes it gives."""
    modes = modes or DEFAULT_MODES
    streams = []
    for stream in catalog["streams"]:
        if stream["name"] not in modes:
            continue
        sync_mode, destination_sync_mode = modes[stream["name"]]
        if sync_mode not in stream.get("supported_sync_modes", []):
            sync_mode = "full_refresh"
        configured = {"stream": stream, "sync_mode": sync_mode, "destination_sync_mode": destination_sync_mode}
        if stream.get("source_defined_primary_key"):
            configured["primary_key"] = stream["source_defined_primary_key"]
        if sync_mode == "incremental" and stream.get("default_cursor_field"):
            configured["cursor_field"] = stream["default_cursor_field"]
        streams.append(configured)
    return {"streams": streams}


def run_sync(
    source_config: Path,
    destination_config: Path,
    catalog_path: Path,
    state_path: Path | None = None,
    env: dict[str, str] | None = None,
    kill_source_after: int | None = None,
    kill_destination_after: int | None = None,
    keep_keys: bool = False,
) -> SyncResult:
    """Run one sync. `kill_source_after` kills the source with SIGKILL once it has sent that many records
    (a crash mid-read: the destination then sees its input end without the streams completing).
    `kill_destination_after` kills the destination with SIGKILL once it was handed that many records, and
    then the source (a crash mid-write). `keep_keys` keeps (stream, id) of every record relayed."""
    read = [str(BIN / "source-iconik"), "read", "--config", str(source_config), "--catalog", str(catalog_path)]
    if state_path is not None:
        read += ["--state", str(state_path)]
    write = [str(BIN / "destination-bucket"), "write", "--config", str(destination_config),
             "--catalog", str(catalog_path)]
    run_env = {**os.environ, **(env or {})}
    source = subprocess.Popen(read, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=run_env)
    destination = subprocess.Popen(write, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=run_env)
    result = SyncResult(source_rc=-1, destination_rc=-1)
    logs: dict[str, bytes] = {}
    source_messages: list[bytes] = []

    def relay() -> None:
        assert source.stdout and destination.stdin
        try:
            for line in source.stdout:
                if line.startswith(b'{"type": "RECORD"') or line.startswith(b'{"type":"RECORD"'):
                    record = json.loads(line)["record"]
                    result.records[record["stream"]] += 1
                    if keep_keys:
                        result.record_keys.append((record["stream"], (record.get("data") or {}).get("id")))
                    if kill_source_after is not None and result.records.total() > kill_source_after:
                        source.kill()
                        break
                elif any(kind in line[:20] for kind in (b'"type": "LOG"', b'"type":"LOG"', b'"type": "TRACE"',
                                                        b'"type":"TRACE"')):
                    source_messages.append(line)
                destination.stdin.write(line)
                if kill_destination_after is not None and result.records.total() > kill_destination_after:
                    destination.kill()
                    source.kill()
                    break
        except BrokenPipeError:  # the destination is gone: stop reading, let the source end
            source.kill()
        finally:
            try:
                destination.stdin.close()
            except BrokenPipeError:
                pass

    def drain(name: str, pipe) -> None:
        logs[name] = pipe.read()

    threads = [
        threading.Thread(target=relay),
        threading.Thread(target=drain, args=("source", source.stderr)),
        threading.Thread(target=drain, args=("destination_err", destination.stderr)),
    ]
    for thread in threads:
        thread.start()
    destination_out = destination.stdout.read() if destination.stdout else b""
    for thread in threads:
        thread.join()
    result.source_rc = source.wait()
    result.destination_rc = destination.wait()
    for line in destination_out.decode().splitlines():
        if line.startswith("{"):
            message = json.loads(line)
            if message.get("type") == "STATE":
                result.states.append(message)
    result.source_log = (b"".join(source_messages) + logs.get("source", b"")).decode(errors="replace")
    result.destination_log = destination_out.decode(errors="replace") + logs.get("destination_err", b"").decode(
        errors="replace"
    )
    return result
