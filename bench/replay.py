"""A record-and-replay HTTP proxy in front of the emulator, so a benchmark can time the source alone.

The first time a request (method, path, query, body) is seen it is forwarded to the emulator and the answer
kept; afterwards the kept bytes are served at once. Running the same deterministic `read` twice through it
makes the second run's wall time the source's own (plus loopback I/O), not the emulator's page building.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

KEPT_HEADERS = ("Content-Type", "RateLimit-Remaining", "Retry-After")


class ReplayProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.cache: dict[tuple[str, str, bytes], tuple[int, list[tuple[str, str]], bytes]] = {}
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = proxy.answer(self.command, self.path, body, self.headers)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, method: str, path: str, body: bytes, headers) -> tuple[int, list, bytes]:
        key = (method, path, body)
        kept = self.cache.get(key)
        if kept is not None:
            self.hits += 1
            return kept
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        forwarded = {k: headers[k] for k in ("App-ID", "Auth-Token", "Accept", "Content-Type") if headers.get(k)}
        response = session.request(method, self.upstream + path, data=body or None, headers=forwarded, timeout=120)
        kept = (response.status_code, [(k, response.headers[k]) for k in KEPT_HEADERS if k in response.headers],
                response.content)
        with self._lock:
            self.misses += 1
            if response.status_code == 200:
                self.cache[key] = kept
        return kept

    def __enter__(self) -> ReplayProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
