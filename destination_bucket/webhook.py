"""The webhook receiver: iconik asset events applied at once to the bucket destination-bucket writes.

`destination-bucket-webhook --config CONFIG --host H --port P` serves (starlette on uvicorn):

* `POST /webhooks/iconik`: one iconik event (`system_domain_id, object_id, user_id, realm, operation,
  event_type, request_id, data`). Verified by `X-Iconik-Signature` (hex HMAC-SHA256 of the raw body under
  `webhook_secret`) or by the shared-secret header named `webhook_secret_header` (iconik's custom webhook
  headers carry `webhook_secret` as its value); both compared in constant time.
* `GET /healthz`.

Asset events (`event_type` "assets", realm "entity"): delete and purge soft-delete the asset's objects (the
destination's trash layout, `_deleted.json` and grace period: the next sync purges them), restore revives
them, update re-checks the asset against `webhook_filters` and soft-deletes its objects when it left them
(with `webhook_reconcile_updates`), create is acknowledged (the next sync picks the asset up). Anything else
is answered 200 with handled=false. Every change runs under `bucket_lock` (a per-process lock, plus an
advisory `flock` on `<bucket>/_meta/.lock` for a local bucket). Secrets never reach logs or responses.

`destination-bucket-webhook register ...` creates the webhook in iconik (`POST
/API/notifications/v1/webhooks/`) with the shared-secret header.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import hmac
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from destination_bucket.config import BucketConfig, parse_config
from destination_bucket.objects import object_key
from destination_bucket.reconcile import DELETED_MARKER, TRASH, Reconciler, trash_key
from destination_bucket.store import Store, bucket_lock, key_part

SIGNATURE_HEADER = "X-Iconik-Signature"
WEBHOOK_PATH = "/webhooks/iconik"
MAX_BODY_BYTES = 1 << 20  # iconik events are a few kB; anything this big is not one
ASSET_STREAM = "assets"
CHILD_STREAMS = ("proxies",)  # streams whose records belong to an asset through `asset_id`
COLLECTIONS_STREAM = "collections"
COLLECTION_MAP_TTL = 30.0  # seconds; also reloaded whenever a sync finishes (_meta/last_sync.json)
HEX_SIGNATURE = re.compile(r"^[0-9a-fA-F]{64}$")
ASSET_OPERATIONS = ("create", "update", "delete", "purge", "restore")

logger = logging.getLogger("destination_bucket.webhook")


# ---- verification ----------------------------------------------------------------------------------------
def sign(secret: str, body: bytes) -> str:
    """The `X-Iconik-Signature` value of a body: hex HMAC-SHA256 under the secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(config: BucketConfig, headers, body: bytes) -> str | None:
    """None when the request is authentic, else why not (never echoing a secret)."""
    secret = config.webhook_secret or ""
    if config.webhook_secret_header:
        shared = headers.get(config.webhook_secret_header)
        if shared is not None and hmac.compare_digest(shared.strip().encode(), secret.encode()):
            return None
    signature = headers.get(SIGNATURE_HEADER)
    if signature is None:
        if config.webhook_secret_header and headers.get(config.webhook_secret_header) is not None:
            return "wrong shared secret"
        return "signature missing"
    value = signature.strip()
    if value.lower().startswith("sha256="):
        value = value[len("sha256="):]
    if not HEX_SIGNATURE.match(value):
        return "signature malformed"
    if not hmac.compare_digest(value.lower().encode(), sign(secret, body).encode()):
        return "signature wrong"
    return None


# ---- filters ---------------------------------------------------------------------------------------------
class PathMatcher:
    """Case-insensitive fnmatch globs on collection paths, as source-iconik's `path_patterns`."""

    def __init__(self, patterns: Iterable[str]):
        self.regexes = [re.compile(fnmatch.translate(p.lower())) for p in patterns]

    def matches_any(self, paths: Iterable[str]) -> bool:
        return not self.regexes or any(r.match(p.lower()) for p in paths for r in self.regexes)


class CollectionMap:
    """Collection id -> directory paths and parents, read from the bucket's `collections` objects."""

    def __init__(self, records: Iterable[dict]):
        self.paths: dict[str, list[str]] = {}
        self.parents: dict[str, list[str]] = {}
        for record in records:
            if not isinstance(record, dict) or not record.get("id"):
                continue
            parents = list(record.get("in_collections") or record.get("parents") or [])
            if not parents and record.get("parent_id"):
                parents = [record["parent_id"]]
            self.paths[record["id"]] = list(record.get("directory_paths") or [])
            self.parents[record["id"]] = parents

    def __contains__(self, collection_id: str) -> bool:
        return collection_id in self.paths

    def ancestors(self, collection_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        todo = [p for c in collection_ids for p in self.parents.get(c, [])]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(self.parents.get(current, []))
        return found

    def paths_of(self, collection_ids: Iterable[str]) -> list[str]:
        return sorted({p for c in collection_ids for p in self.paths.get(c, [])})


# ---- the events ------------------------------------------------------------------------------------------
class WebhookHandler:
    """Applies one parsed event to the bucket; thread-safe (every change runs under `bucket_lock`)."""

    def __init__(self, config: BucketConfig, store: Store | None = None):
        self.config = config
        self.store = store or Store(config.bucket_url, config.storage_options)
        self.matcher = PathMatcher(config.webhook_filters.path_patterns)
        self._owners: dict[tuple[str, str], str | None] = {}  # (stream, key) of a child object -> asset id
        self._collections: CollectionMap | None = None
        self._collections_loaded = (0.0, None)

    # ---- entry point -------------------------------------------------------------------------------
    def handle(self, payload: dict) -> dict:
        event_type = payload.get("event_type")
        operation = str(payload.get("operation") or "").lower()
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        asset_id = payload.get("object_id") or data.get("id")
        label = f"{event_type}.{operation}" if operation else str(event_type)
        asset_id = asset_id if isinstance(asset_id, str) and asset_id else None
        result = {"received": True, "event_type": label, "handled": False, "asset_id": asset_id,
                  "deleted_objects": []}
        realm = str(payload.get("realm") or "entity").lower()
        if event_type != "assets" or realm != "entity" or operation not in ASSET_OPERATIONS or asset_id is None:
            logger.info(f"Ignored event {label} (realm {realm}): not an asset entity event this receiver handles.")
            return result
        if data.get("id") not in (None, asset_id):
            data = {}  # the payload's data describes another object: use nothing from it
        if operation == "create":
            result["handled"] = True
        else:
            with bucket_lock(self.store):
                if not self.store.is_local:
                    self.store.fs.invalidate_cache()  # a sync in another process may have changed listings
                result["deleted_objects"] = getattr(self, f"_on_{operation}")(asset_id, data)
            result["handled"] = True
        logger.info(f"Event {label} for asset {asset_id}: {len(result['deleted_objects'])} object(s) in trash.")
        return result

    def _reconciler(self) -> Reconciler:
        return Reconciler(self.store, self.config.delete_grace_period_hours, self.config.max_delete_fraction,
                          datetime.now(UTC))

    def _on_delete(self, asset_id: str, data: dict, reason: str = "deleted in iconik (webhook)") -> list[str]:
        reconciler = self._reconciler()
        for stream, key in self.objects_of(asset_id, trashed=False):
            reconciler.soft_delete(stream, key, reason, data.get("date_deleted"))
        return self.trashed_objects(asset_id)

    def _on_purge(self, asset_id: str, data: dict) -> list[str]:
        return self._on_delete(asset_id, data, "purged in iconik (webhook)")

    def _on_restore(self, asset_id: str, data: dict) -> list[str]:
        reconciler = self._reconciler()
        for stream, key in self.objects_of(asset_id, trashed=True):
            reconciler.revive(stream, key)
        return self.trashed_objects(asset_id)

    def _on_update(self, asset_id: str, data: dict) -> list[str]:
        if not self.config.webhook_reconcile_updates:
            return []
        key = key_part(asset_id)
        stored = (self.store.read_json(f"{object_key(ASSET_STREAM, key)}/object.json")
                  or self.store.read_json(f"{trash_key(ASSET_STREAM, key)}/object.json") or {})
        record = stored.get("record") if isinstance(stored.get("record"), dict) else {}
        if not record and not data:
            return []
        why = self.mismatch({**record, **data}, data, record)
        if why is None:
            return []
        return self._on_delete(asset_id, data, f"no longer matches the webhook filters: {why} (webhook)")

    # ---- which objects belong to an asset ------------------------------------------------------------
    def objects_of(self, asset_id: str, trashed: bool) -> list[tuple[str, str]]:
        """(stream, key) of the asset's objects, live ones or trashed ones."""
        base = trash_key if trashed else object_key
        found = []
        key = key_part(asset_id)
        if self.store.exists(f"{base(ASSET_STREAM, key)}/object.json"):
            found.append((ASSET_STREAM, key))
        for stream in CHILD_STREAMS:
            folder = f"{TRASH if trashed else 'objects'}/{key_part(stream)}"
            for child in self._names(folder):
                if self._owner(stream, child, f"{folder}/{child}") == asset_id:
                    found.append((stream, child))
        return found

    def _names(self, folder: str) -> list[str]:
        """Store.children, without a stat per entry on a local bucket."""
        if not self.store.is_local:
            return self.store.children(folder)
        try:
            return sorted(os.listdir(self.store.path(folder)))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def _owner(self, stream: str, key: str, folder: str) -> str | None:
        if (stream, key) not in self._owners:
            document = self.store.read_json(f"{folder}/object.json")
            if document is None:
                return None  # being written or moved: not cached, looked at again next time
            self._owners[(stream, key)] = (document.get("record") or {}).get("asset_id")
        return self._owners[(stream, key)]

    def trashed_objects(self, asset_id: str) -> list[str]:
        """Object keys (`objects/<stream>/<key>`) of the asset now in the trash, sorted."""
        return sorted(object_key(stream, key) for stream, key in self.objects_of(asset_id, trashed=True)
                      if self.store.exists(f"{trash_key(stream, key)}/{DELETED_MARKER}"))

    # ---- filters -----------------------------------------------------------------------------------
    def collections(self) -> CollectionMap:
        """The collection map, re-read after every sync and at most every COLLECTION_MAP_TTL seconds."""
        marker = (self.store.read_json("_meta/last_sync.json") or {}).get("finished_at")
        loaded_at, loaded_marker = self._collections_loaded
        if self._collections is None or marker != loaded_marker or time.monotonic() - loaded_at > COLLECTION_MAP_TTL:
            folder = f"objects/{key_part(COLLECTIONS_STREAM)}"
            records = []
            for key in self.store.children(folder):
                document = self.store.read_json(f"{folder}/{key}/object.json") or {}
                records.append(document.get("record") or {})
            self._collections = CollectionMap(records)
            self._collections_loaded = (time.monotonic(), marker)
        return self._collections

    def mismatch(self, asset: dict, data: dict, stored: dict) -> str | None:
        """Why the asset is out of the filters, or None when it matches or that cannot be told."""
        filters = self.config.webhook_filters
        status = asset.get("status")
        if status and str(status).upper() not in filters.status:
            return f"status {status}"
        media_type = asset.get("media_type")
        if filters.media_types and media_type and str(media_type).lower() not in filters.media_types:
            return f"media type {media_type}"
        if not (filters.collection_ids or filters.path_patterns):
            return None
        moved = "in_collections" in data  # then stored ancestors and paths are stale
        direct = data.get("in_collections") if moved else stored.get("in_collections")
        if direct is not None and not isinstance(direct, list):
            return None
        cmap = self.collections() if direct else None
        unknown = any(c not in cmap for c in direct) if direct else False
        if filters.collection_ids:
            wanted = set(filters.collection_ids)
            if direct is None and not stored.get("ancestor_collections"):
                return None
            ancestors = set(data.get("ancestor_collections") or []) if moved else set(
                stored.get("ancestor_collections") or [])
            if direct:
                ancestors |= cmap.ancestors(direct)
            if not (set(direct or []) | ancestors) & wanted:
                if unknown:
                    return None  # a collection newer than the last sync: it may sit under a wanted one
                return "not in the configured collections"
        if filters.path_patterns:
            if direct is not None and (moved or stored.get("directory_paths") is None):
                if unknown:
                    return None
                paths = cmap.paths_of(direct) if direct else []
            else:
                paths = stored.get("directory_paths") or []
            if not self.matcher.matches_any(paths):
                return "no collection path matches the path patterns"
        return None


# ---- HTTP ------------------------------------------------------------------------------------------------
def create_app(config: BucketConfig, store: Store | None = None, max_body_bytes: int = MAX_BODY_BYTES):
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    handler = WebhookHandler(config, store)

    def refuse(status: int, message: str) -> JSONResponse:
        return JSONResponse({"received": False, "error": message}, status_code=status)

    async def receive(request: Request) -> JSONResponse:
        if not config.webhook_secret:
            return refuse(400, "no webhook_secret is configured: every event is refused")
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body_bytes):
            return refuse(413 if length.isdigit() else 400,
                          f"body over {max_body_bytes} bytes" if length.isdigit() else "bad Content-Length")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body_bytes:
                return refuse(413, f"body over {max_body_bytes} bytes")
        problem = verify(config, request.headers, bytes(body))
        if problem:
            logger.warning(f"Refused a webhook from {request.client.host if request.client else '?'}: {problem}.")
            return refuse(401, problem)
        try:
            payload = json.loads(bytes(body))
        except (ValueError, UnicodeDecodeError):
            return refuse(400, "the body is not valid JSON")
        if not isinstance(payload, dict):
            return refuse(400, "the body must be a JSON object")
        try:
            result = await run_in_threadpool(handler.handle, payload)
        except Exception as exc:  # a bucket error: iconik retries a failed delivery
            message = str(exc)
            for secret in (config.webhook_secret, config.storage_options.get("secret")):
                message = message.replace(secret, "***") if secret else message
            logger.error(f"Could not apply event {payload.get('event_type')}.{payload.get('operation')}: "
                         f"{type(exc).__name__}: {message}")
            return refuse(500, "the event could not be applied to the bucket")
        return JSONResponse(result)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "secret_configured": bool(config.webhook_secret)})

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = "unknown path" if exc.status_code == 404 else exc.detail
        return JSONResponse({"received": False, "error": message}, status_code=exc.status_code)

    app = Starlette(routes=[Route(WEBHOOK_PATH, receive, methods=["POST"]),
                            Route("/healthz", healthz, methods=["GET"])],
                    exception_handlers={HTTPException: http_error})
    app.state.handler = handler
    return app


class ReceiverServer:
    """The receiver on uvicorn in a background thread (tests, benchmarks): `with ReceiverServer(config) as s:`
    then POST to `s.url`. Port 0 picks a free port."""

    def __init__(self, config: BucketConfig, host: str = "127.0.0.1", port: int = 0, **app_options):
        import socket

        import uvicorn

        self.app = create_app(config, **app_options)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.host, self.port = self.socket.getsockname()[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self.url = self.base_url + WEBHOOK_PATH
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False,
                                                    timeout_keep_alive=30))
        self.thread = None

    def __enter__(self) -> ReceiverServer:
        import threading

        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True,
                                       name="webhook-receiver")
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.socket.close()


# ---- command line ----------------------------------------------------------------------------------------
def load_config(path: str) -> BucketConfig:
    """The destination's config file; a `filters` block is taken as `webhook_filters`."""
    raw = json.loads(Path(path).read_text())
    if isinstance(raw, dict) and "filters" in raw:
        raw = dict(raw)
        filters = raw.pop("filters")
        raw.setdefault("webhook_filters", filters)
    return parse_config(raw)


def _config_or_exit(path: str) -> BucketConfig:
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    try:
        return load_config(path)
    except (OSError, ValueError) as exc:
        sys.exit(f"Could not read the config {path}: {type(exc).__name__}: {exc}")
    except AirbyteTracedException as exc:
        sys.exit(f"Config error: {exc.message}")


def serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="destination-bucket-webhook",
                                     description="Receive iconik webhooks and apply them to the bucket.")
    parser.add_argument("--config", required=True, help="destination-bucket config (JSON)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--max-body-bytes", type=int, default=MAX_BODY_BYTES)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    config = _config_or_exit(args.config)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not config.webhook_secret:
        logger.warning("No webhook_secret in the config: every event will be refused with 400.")
    import uvicorn

    uvicorn.run(create_app(config, max_body_bytes=args.max_body_bytes), host=args.host, port=args.port,
                log_level=args.log_level, access_log=False)


def webhook_body(config: BucketConfig, url: str, name: str, operation: str | None) -> dict:
    return {"name": name, "description": "destination-bucket: apply asset events to the bucket",
            "url": url, "event_type": "assets", "realm": "entity", "operation": operation, "status": "ENABLED",
            "headers": {config.webhook_secret_header: config.webhook_secret}}


def redact(value, secret: str):
    if isinstance(value, dict):
        return {k: redact(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secret) for v in value]
    if isinstance(value, str) and secret:
        return value.replace(secret, "***")
    return value


def register(argv: list[str]) -> int:
    import requests

    parser = argparse.ArgumentParser(prog="destination-bucket-webhook register",
                                     description="Create the iconik webhook that calls this receiver.")
    parser.add_argument("--config", required=True, help="destination-bucket config with webhook_secret and "
                                                        "webhook_secret_header")
    parser.add_argument("--iconik-url", default="https://app.iconik.io")
    parser.add_argument("--app-id", default=os.environ.get("ICONIK_APP_ID"), help="or ICONIK_APP_ID")
    parser.add_argument("--auth-token", default=os.environ.get("ICONIK_AUTH_TOKEN"), help="or ICONIK_AUTH_TOKEN")
    parser.add_argument("--url", required=True, help="public URL of POST /webhooks/iconik")
    parser.add_argument("--name", default="destination-bucket")
    parser.add_argument("--operation", action="append", choices=ASSET_OPERATIONS,
                        help="one webhook per operation (repeatable); default: one webhook for all operations")
    args = parser.parse_args(argv)
    config = _config_or_exit(args.config)
    if not args.app_id or not args.auth_token:
        print("--app-id and --auth-token (or ICONIK_APP_ID / ICONIK_AUTH_TOKEN) are required.", file=sys.stderr)
        return 2
    if not config.webhook_secret or not config.webhook_secret_header:
        print("The config needs webhook_secret and webhook_secret_header: iconik does not sign webhooks, so it "
              "must send the secret in that header.", file=sys.stderr)
        return 2
    if not args.url.rstrip("/").endswith(WEBHOOK_PATH):
        print(f"Note: the receiver listens on {WEBHOOK_PATH}; {args.url} does not end with it.", file=sys.stderr)
    endpoint = args.iconik_url.rstrip("/") + "/API/notifications/v1/webhooks/"
    headers = {"App-ID": args.app_id, "Auth-Token": args.auth_token, "Accept": "application/json"}
    secrets = [config.webhook_secret, args.auth_token]
    for operation in args.operation or [None]:
        body = webhook_body(config, args.url, args.name + (f" ({operation})" if operation else ""), operation)
        try:
            response = requests.post(endpoint, json=body, headers=headers, timeout=30)
        except requests.RequestException as exc:
            print(f"Could not reach iconik at {endpoint}: {type(exc).__name__}", file=sys.stderr)
            return 1
        text = response.text
        for secret in secrets:
            text = text.replace(secret, "***")
        if response.status_code not in (200, 201):
            print(f"iconik refused the webhook: HTTP {response.status_code}: {text[:500]}", file=sys.stderr)
            return 1
        created = response.json()
        for secret in secrets:
            created = redact(created, secret)
        print(json.dumps({"id": created.get("id"), "url": created.get("url"), "event_type": created.get("event_type"),
                          "realm": created.get("realm"), "operation": created.get("operation"),
                          "status": created.get("status"), "headers": created.get("headers")}))
    return 0


def run(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "register":
        sys.exit(register(argv[1:]))
    if argv and argv[0] == "serve":
        argv = argv[1:]
    serve(argv)


if __name__ == "__main__":
    run()
