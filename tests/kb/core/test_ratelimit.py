"""The rate limiter of the feedback (``kb/core/ratelimit.py``), kept in each process's memory."""

from __future__ import annotations

from kb.core.ratelimit import RateLimiter


def test_the_rate_limiter_allows_a_burst_then_says_how_long_to_wait():
    now = [0.0]
    limiter = RateLimiter(2, window=60, clock=lambda: now[0])
    assert limiter.acquire("192.0.2.1") is None and limiter.acquire("192.0.2.1") is None
    now[0] = 20.0
    assert limiter.acquire("192.0.2.1") == 40
    assert limiter.acquire("192.0.2.2") is None  # another client is not held up
    now[0] = 60.0
    assert limiter.acquire("192.0.2.1") is None
