"""The PostgreSQL door: pooled connections, the generation pointer, the writer lock, 503s."""

from __future__ import annotations

import threading
import time

import pytest

from kb.core.errors import BackendUnavailable
from kb.storage.postgres.database import describe_url, generation_schema, open_database


def test_generation_pointer_moves_and_schemas_are_validated(postgres_url):
    database = open_database(postgres_url)
    try:
        assert database.current_generation() is None
        database.switch_generation("gen-0001")
        database.switch_generation("gen-0002")
        assert database.current_generation() == "gen-0002"
        assert generation_schema("gen-0002") == "kb_gen_0002"
        with pytest.raises(ValueError):
            generation_schema("gen-x; DROP TABLE kb_generation")
        assert database.ping() and database.writable()
    finally:
        database.close()


def test_one_writer_at_a_time_across_connections(postgres_url):
    first, second = open_database(postgres_url, pool_size=4), open_database(postgres_url, pool_size=4)
    assert first is second  # one pool per process and URL
    order: list[str] = []

    def other_writer() -> None:
        with second.writer_lock():
            order.append("second")

    try:
        with first.writer_lock():
            thread = threading.Thread(target=other_writer)
            thread.start()
            time.sleep(0.3)
            order.append("first done")
        thread.join(5)
        assert order == ["first done", "second"]
    finally:
        first.close()
        second.close()


def test_an_unreachable_database_is_a_french_503_without_its_password():
    url = "postgresql://passerelles:s3cret@127.0.0.1:9/passerelles"
    with pytest.raises(BackendUnavailable) as caught:
        open_database(url, connect_timeout=1)
    assert caught.value.http_status == 503
    assert "ne répond pas" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert describe_url(url) == "postgresql://127.0.0.1:9/passerelles"
