"""python -m iconik_emulator: run the emulator until interrupted."""

from __future__ import annotations

import argparse
import time

from iconik_emulator import EmulatorServer, Faults, LibraryConfig


def _on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError("use on or off")
    return value == "on"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m iconik_emulator",
        description="A local iconik API on 127.0.0.1 for tests, demos and benchmarks. Credentials: App-ID "
                    "5f0c4b8e-6a1d-11ef-9c2a-0242ac120002, Auth-Token emulator-token-0123456789abcdef. "
                    "Control API: POST /_emulator/<operation>.",
    )
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0 = any free port)")
    p.add_argument("--assets", type=int, default=2000, help="number of generated assets (default 2000)")
    p.add_argument("--seed", type=int, default=7, help="seed of the generated library (default 7)")
    p.add_argument("--collection-depth", type=int, default=12, help="depth of the deepest collection chain (12)")
    p.add_argument("--root-collections", type=int, default=3, help="number of root collections (default 3)")
    p.add_argument("--branch-collections", type=int, default=24,
                   help="extra collections spread over the tree (default 24)")
    p.add_argument("--views", type=int, default=3, help="number of metadata views (>= 3, default 3)")
    p.add_argument("--media-size", type=int, default=4096, help="bytes of each generated proxy (default 4096)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added latency per API request (default 0)")
    p.add_argument("--rate-limit", type=_on_off, default=True, help="iconik's leaky bucket: on|off (default on)")
    p.add_argument("--retry-after", type=_on_off, default=True, help="send Retry-After with 429s: on|off (on)")
    p.add_argument("--index-lag", type=float, default=0.0, help="seconds before search sees a change (0)")
    p.add_argument("--url-ttl", type=float, default=3600.0, help="lifetime of signed media URLs in s (3600)")
    p.add_argument("--embed-proxies", type=_on_off, default=True,
                   help="search documents carry proxies when asked with generate_signed_proxy_url: on|off (on)")
    p.add_argument("--non-admin", action="store_true", help="the token's user is not an admin (403 on admin APIs)")
    p.add_argument("--fault-seed", type=int, default=0, help="seed of the fault sequence (0)")
    p.add_argument("--error-rate", type=float, default=0.0, help="fraction of requests answered 500/502/503")
    p.add_argument("--reset-rate", type=float, default=0.0, help="fraction of connections dropped mid-response")
    p.add_argument("--truncate-rate", type=float, default=0.0, help="fraction of JSON bodies cut short")
    p.add_argument("--slow-rate", type=float, default=0.0, help="fraction of requests delayed by --slow-ms")
    p.add_argument("--slow-ms", type=float, default=2000.0, help="delay of a slow response (2000)")
    return p


def main() -> None:
    args = parser().parse_args()
    config = LibraryConfig(assets=args.assets, seed=args.seed, collection_depth=args.collection_depth,
                           root_collections=args.root_collections, branch_collections=args.branch_collections,
                           views=args.views, media_size=args.media_size, admin=not args.non_admin)
    faults = Faults(seed=args.fault_seed, error_rate=args.error_rate, reset_rate=args.reset_rate,
                    truncate_rate=args.truncate_rate, slow_rate=args.slow_rate, slow_ms=args.slow_ms)
    server = EmulatorServer(config, port=args.port, latency_ms=args.latency_ms, rate_limit=args.rate_limit,
                            retry_after=args.retry_after, index_lag_seconds=args.index_lag,
                            url_ttl_seconds=args.url_ttl, embed_proxies=args.embed_proxies, faults=faults)
    with server:
        print(f"iconik emulator on {server.base_url} ({args.assets} assets, seed {args.seed}); "
              f"App-ID {server.app_id}; Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
