"""`python -m iconik_emulator`: its help documents every option, and the options it parses reach the server."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import requests

from emulator_tests.helpers import REPO, start_cli_emulator, stop
from iconik_emulator import DEFAULT_APP_ID, DEFAULT_AUTH_TOKEN, EmulatorServer, Faults
from iconik_emulator.__main__ import parser

HEADERS = {"App-ID": DEFAULT_APP_ID, "Auth-Token": DEFAULT_AUTH_TOKEN}


def _help() -> str:
    result = subprocess.run([sys.executable, "-m", "iconik_emulator", "--help"], capture_output=True, text=True,
                            cwd=REPO, timeout=60, env={"COLUMNS": "200", "PATH": ""})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def _options() -> list:
    return [a for a in parser()._actions if a.option_strings and a.dest != "help"]


def test_help_exits_0_and_documents_every_option():
    text = _help()
    assert text.startswith("usage: python -m iconik_emulator")
    assert DEFAULT_APP_ID in text and DEFAULT_AUTH_TOKEN in text and "/_emulator/" in text
    options = _options()
    assert len(options) >= 19
    for action in options:
        flag = action.option_strings[-1]
        assert action.help and len(action.help) > 10, f"{flag} has no help"
        # Each option appears on its own help line, followed by (the start of) its description.
        line = next((ln for ln in text.splitlines() if ln.strip().startswith(flag)), None)
        assert line is not None, f"{flag} missing from --help"
        assert action.help.split()[0] in text


def test_defaults_stated_in_help_are_the_real_defaults():
    """Where a help text states a default in parentheses, it is the value argparse actually uses."""
    checked = 0
    for action in _options():
        claims = re.findall(r"\(([^)]*)\)", action.help)
        if not claims or action.default in (None, False):
            continue
        default = action.default
        if isinstance(default, bool):
            rendered = "on" if default else "off"
        elif isinstance(default, float) and default.is_integer():
            rendered = str(int(default))
        else:
            rendered = str(default)
        tokens = re.findall(r"[\w.]+", claims[-1])
        assert rendered in tokens, f"{action.option_strings[-1]}: help says {claims[-1]!r}, default is {default!r}"
        checked += 1
    assert checked >= 10


def test_every_server_and_fault_setting_has_an_option():
    flags = {a.dest for a in _options()}
    server_kwargs = set(inspect.signature(EmulatorServer.__init__).parameters) - {"self", "config", "host", "faults"}
    renamed = {"index_lag_seconds": "index_lag", "url_ttl_seconds": "url_ttl"}
    assert {renamed.get(k, k) for k in server_kwargs} <= flags
    fault_fields = set(Faults.__dataclass_fields__) - {"burst_429"}  # burst_429 is a run-time control only
    assert {"fault_seed" if f == "seed" else f for f in fault_fields} <= flags


def test_every_library_setting_has_an_option():
    from iconik_emulator.library import LibraryConfig

    flags = {a.dest for a in _options()}
    fields = set(LibraryConfig.__dataclass_fields__) - {"admin"}  # admin is --non-admin
    assert fields <= flags, fields - flags


def test_cli_starts_an_emulator_with_the_given_options():
    process, base_url = start_cli_emulator("--assets", "25", "--seed", "4", "--non-admin", "--rate-limit", "off")
    try:
        page = requests.get(f"{base_url}/API/assets/v1/assets/", headers=HEADERS, timeout=10)
        assert page.status_code == 200 and page.json()["total"] == 25
        assert "RateLimit-Remaining" in page.headers
        me = requests.get(f"{base_url}/API/users/v1/users/current/", headers=HEADERS, timeout=10).json()
        assert me["is_admin"] is False
        asset_id = page.json()["objects"][0]["id"]
        admin_only = requests.get(f"{base_url}/API/metadata/v1/assets/{asset_id}/", headers=HEADERS, timeout=10)
        assert admin_only.status_code == 403
    finally:
        stop(process)
    assert process.returncode is not None


def test_bad_option_values_are_rejected():
    result = subprocess.run([sys.executable, "-m", "iconik_emulator", "--rate-limit", "maybe"], capture_output=True,
                            text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2 and "use on or off" in result.stderr
