"""A faithful local iconik API for tests, the demo and benchmarks (test infrastructure, not shipped)."""

from iconik_emulator.library import LibraryConfig
from iconik_emulator.limits import Faults
from iconik_emulator.server import EmulatorServer
from iconik_emulator.state import DEFAULT_APP_ID, DEFAULT_AUTH_TOKEN, NON_ADMIN_AUTH_TOKEN

__all__ = ["DEFAULT_APP_ID", "DEFAULT_AUTH_TOKEN", "NON_ADMIN_AUTH_TOKEN", "EmulatorServer", "Faults",
           "LibraryConfig"]
