"""What `kb serve` sets up for its process before serving."""

from __future__ import annotations

import platform

import pytest

from api.server import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_server_caps_glibc_malloc_arenas():
    assert limit_malloc_arenas(2) is True


def test_no_cap_is_set_when_asked_for_none():
    assert limit_malloc_arenas(0) is False
