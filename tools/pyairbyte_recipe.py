"""PyAirbyte recipe: read source-iconik into PyAirbyte's local cache, then write it to destination-bucket.

Runs offline: both connectors are local executables (this project's console scripts), and
AIRBYTE_OFFLINE_MODE=1 stops PyAirbyte from looking up Airbyte's online registry and sending telemetry.

    pip install airbyte            # PyAirbyte (large: ~780 MB)
    python -m tools.pyairbyte_recipe --config secrets/config.json --bucket ./my-bucket

With no --config it syncs the bundled emulator instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# Set before `import airbyte`: PyAirbyte reads these at import time.
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

BIN = Path(sys.executable).parent
STREAMS = ["assets", "collections", "metadata_views", "proxies", "deleted_assets", "asset_inventory"]


def sync(source_config: dict, bucket: Path, cache_dir: Path) -> dict[str, int]:
    """One sync: iconik → PyAirbyte's DuckDB cache → bucket. A second call reads incrementally."""
    os.environ.setdefault("AIRBYTE_LOGGING_ROOT", str(cache_dir / "logs"))
    import airbyte as ab

    source = ab.get_source(
        "source-iconik", config=source_config, local_executable=str(BIN / "source-iconik"), streams=STREAMS
    )
    source.check()
    cache = ab.new_local_cache(cache_name="iconik", cache_dir=str(cache_dir))
    result = source.read(cache=cache)
    destination = ab.get_destination(
        "destination-bucket",
        config={"bucket_url": str(bucket), "download_files": True},
        local_executable=str(BIN / "destination-bucket"),
    )
    destination.write(result)
    return {name: len(dataset) for name, dataset in result.streams.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="source-iconik config file (default: the bundled emulator)")
    parser.add_argument("--bucket", type=Path, default=Path("pyairbyte-bucket"))
    parser.add_argument("--cache-dir", type=Path, default=Path("build/pyairbyte-cache"))
    args = parser.parse_args()
    if args.config:
        print(json.dumps(sync(json.loads(args.config.read_text()), args.bucket, args.cache_dir)))
        return
    from iconik_emulator import EmulatorServer, LibraryConfig

    with EmulatorServer(LibraryConfig(assets=50)) as emu:
        config = {"app_id": emu.app_id, "auth_token": emu.auth_token, "base_url": emu.base_url}
        print(json.dumps(sync(config, args.bucket, args.cache_dir)))


if __name__ == "__main__":
    main()
