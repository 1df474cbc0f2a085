"""Browser tests' shared pieces: a site served on loopback with Debian's Chromium beside it, and
axe-core's serious or critical violations of a page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.servers import CHROMIUM, CHROMIUM_ARGS, serve_in_thread


@contextmanager
def chromium_serving(app) -> Iterator[tuple[Any, str]]:
    """``(browser, base URL)``: ``app`` served in a thread and a headless Chromium; the test is
    skipped, with the package to install, where Chromium is absent."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with serve_in_thread(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser, base
        finally:
            browser.close()


def serious_violations(page, context: Any = None) -> list[tuple[str, list]]:
    """axe-core's serious and critical violations of ``page`` (within ``context``, a selector,
    when given): each rule's id with its first three targets."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    return [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
