"""Fixtures for destination-bucket tests: a local folder bucket and a small media server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest


def media_bytes(name: str, size: int) -> bytes:
    """Deterministic content for a file name and size."""
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


class MediaServer:
    """Serves /media/<name>?size=N; /cut/<name>?size=N sends half the body then drops the connection;
    /gone/<name> answers 403 (an expired signed URL);
    /slow/<name> trickles the body over about 5 s. Counts hits per path."""

    def __init__(self):
        hits = self.hits = Counter()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlparse(self.path)
                hits[url.path] += 1
                size = int(parse_qs(url.query).get("size", ["2048"])[0])
                kind, _, name = url.path.strip("/").partition("/")
                body = media_bytes(name, size)
                if kind == "gone":
                    self.send_response(403)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if kind == "slow":  # 10 chunks over about 5 s
                    step = max(1, len(body) // 10)
                    for start in range(0, len(body), step):
                        self.wfile.write(body[start:start + step])
                        self.wfile.flush()
                        time.sleep(0.5)
                    return
                if kind == "cut":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name: str, size: int = 2048, kind: str = "media") -> str:
        return f"{self.base}/{kind}/{name}?size={size}"


@pytest.fixture(scope="session")
def media():
    server = MediaServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def bucket(tmp_path):
    return tmp_path / "bucket"
