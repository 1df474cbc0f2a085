"""The caches of derived values: bounded, least recently used dropped first, computed once."""

from __future__ import annotations

from kb.core.bounded_cache import BoundedCache


def test_the_least_recently_used_entry_goes_first_past_the_bound():
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def test_a_missing_value_is_computed_once_then_read():
    cache: BoundedCache[str, list[int]] = BoundedCache(4)
    calls = []
    first = cache.get_or_compute("k", lambda: calls.append(1) or [1])
    again = cache.get_or_compute("k", lambda: calls.append(1) or [2])
    assert first is again and calls == [1]
