"""EmulatorServer: the emulator on 127.0.0.1 in a background thread, with its truth and control handles."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from iconik_emulator.app import create_app
from iconik_emulator.control import Control
from iconik_emulator.library import LibraryConfig
from iconik_emulator.limits import Faults, Limits
from iconik_emulator.state import DEFAULT_APP_ID, DEFAULT_AUTH_TOKEN, EmulatorState
from iconik_emulator.truth import Truth


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class EmulatorServer:
    """Start with `with EmulatorServer(...) as emu:`; `emu.base_url` is the iconik base URL to configure."""

    def __init__(self, config: LibraryConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 latency_ms: float = 0.0, rate_limit: bool = True, retry_after: bool = True,
                 index_lag_seconds: float = 0.0, url_ttl_seconds: float = 3600.0, embed_proxies: bool = True,
                 faults: Faults | None = None):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the emulator only listens on loopback")
        self.config = config or LibraryConfig()
        self.state = EmulatorState(
            self.config, Limits(rate_limit=rate_limit, retry_after=retry_after, latency_ms=latency_ms),
            faults, index_lag_seconds=index_lag_seconds, url_ttl_seconds=url_ttl_seconds,
            embed_proxies=embed_proxies,
        )
        self.host, self.port = host, port or free_port(host)
        self.app_id, self.auth_token = DEFAULT_APP_ID, DEFAULT_AUTH_TOKEN
        self.truth = Truth(self.state)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control(self) -> Control:
        return Control(self.base_url)

    def start(self) -> EmulatorServer:
        config = uvicorn.Config(create_app(self.state), host=self.host, port=self.port, log_level="warning",
                                access_log=False, lifespan="off", timeout_keep_alive=30, backlog=2048)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="iconik-emulator")
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator could not start on {self.base_url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
