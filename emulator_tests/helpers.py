"""Helpers shared by the emulator contract tests (not collected by pytest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from iconik_emulator import EmulatorServer
from iconik_emulator.server import free_port
from tools.processes import stop  # noqa: F401  (re-exported for the tests)

REPO = Path(__file__).resolve().parents[1]


class Api:
    """A requests session that sends the emulator's App-ID / Auth-Token and joins relative paths."""

    def __init__(self, emu: EmulatorServer):
        self.emu = emu
        self.base_url = emu.base_url
        self.session = requests.Session()
        self.session.headers.update({"App-ID": emu.app_id, "Auth-Token": emu.auth_token,
                                     "Accept": "application/json"})

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.url(path), timeout=30, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.session.post(self.url(path), timeout=30, **kwargs)

    def search(self, body: dict, **params) -> requests.Response:
        return self.post("/API/search/v1/search/", json=body, params=params)

    def ok(self, path: str, **kwargs) -> dict:
        response = self.get(path, **kwargs)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.json()


def start_cli_emulator(*args: str) -> tuple[subprocess.Popen, str]:
    """`python -m iconik_emulator --port <free> ...` in its own process (its own GIL, so bursts are fast).

    Returns the process and the base URL, once the emulator has printed its banner (it is then listening).
    """
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "iconik_emulator", "--port", str(port), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    banner = process.stdout.readline()
    if f"127.0.0.1:{port}" not in banner:
        process.kill()
        raise RuntimeError(f"the emulator did not start: {banner!r} {process.stderr.read()[:500]}")
    return process, f"http://127.0.0.1:{port}"
