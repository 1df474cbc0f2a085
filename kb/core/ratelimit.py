"""A per-client sliding-window limiter, in memory only: the addresses it sees are never stored.

Each process counts on its own, also with ``KB_DATABASE_URL``: sharing the counts between API
servers would mean storing the addresses. Behind N servers a client may post N times the limit,
which still bounds a flood.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most ``limit`` events per client in any ``window`` seconds."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float | None:
        """Count one event of ``client``; None when allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            self._forget_idle(now)
            events = self._events.setdefault(client, deque())
            while events and now - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(1.0, math.ceil(self.window - (now - events[0])))
            events.append(now)
            return None

    def _forget_idle(self, now: float) -> None:
        """Drop clients with no event in the window, so memory follows the active clients only."""
        if len(self._events) < 1024:
            return
        for client in [c for c, events in self._events.items() if not events or now - events[-1] >= self.window]:
            del self._events[client]
