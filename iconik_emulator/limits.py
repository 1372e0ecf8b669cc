"""Run-time limits and faults: iconik's leaky-bucket rate limit, latency and seeded failures."""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Limits:
    rate_limit: bool = True
    capacity: int = 1000  # requests over any 20 s
    drain_per_second: float = 50.0  # sustained requests per second
    retry_after: bool = True  # send Retry-After with 429s
    latency_ms: float = 0.0


@dataclass
class Faults:
    seed: int = 0
    error_rate: float = 0.0  # fraction of API requests answered 500/502/503
    reset_rate: float = 0.0  # fraction whose connection is dropped mid-response
    truncate_rate: float = 0.0  # fraction whose JSON body is cut short
    slow_rate: float = 0.0  # fraction delayed by slow_ms
    slow_ms: float = 2000.0
    burst_429: int = 0  # the next N API requests are answered 429 regardless of the bucket

    def any(self) -> bool:
        return bool(self.error_rate or self.reset_rate or self.truncate_rate or self.slow_rate or self.burst_429)


class LeakyBucket:
    """One bucket per (App-ID, token): capacity 1000, draining 50 per second."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._levels: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[str, str]) -> tuple[bool, int, int]:
        """(allowed, remaining, retry_after_seconds) for one request."""
        limits = self.limits
        now = time.monotonic()
        with self._lock:
            level, last = self._levels.get(key, (0.0, now))
            level = max(0.0, level - (now - last) * limits.drain_per_second)
            if not limits.rate_limit:
                self._levels[key] = (level, now)
                return True, limits.capacity, 0
            if level + 1 > limits.capacity:
                self._levels[key] = (level, now)
                wait = max(1, math.ceil((level + 1 - limits.capacity) / limits.drain_per_second))
                return False, 0, wait
            level += 1
            self._levels[key] = (level, now)
            return True, int(limits.capacity - level), 0

    def reset(self) -> None:
        with self._lock:
            self._levels.clear()


@dataclass
class FaultPlan:
    """Draws a reproducible fault for each API request from the fault seed."""

    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.reseed()

    def reseed(self) -> None:
        self._rng = random.Random(self.faults.seed)

    def draw(self) -> str | None:
        f = self.faults
        with self._lock:
            if f.burst_429 > 0:
                f.burst_429 -= 1
                return "429"
            if not f.any():
                return None
            roll = self._rng.random()
            kind = self._rng.choice((500, 502, 503))
        for name, rate in (("error", f.error_rate), ("reset", f.reset_rate), ("truncate", f.truncate_rate),
                           ("slow", f.slow_rate)):
            if roll < rate:
                return f"{name}:{kind}" if name == "error" else name
            roll -= rate
        return None
