"""The registry's change tracking: what changed since a revision, and the snapshot kept up to
date from it."""

from __future__ import annotations

from kb.core.models import Chunk, DocumentMetadata
from kb.storage.embedded.registry import Registry
from kb.storage.protocols import EVERY_DOCUMENT


def _write(registry: Registry, doc_id: str, version: str = "v1", chunks: int = 1) -> None:
    metadata = DocumentMetadata(doc_id=doc_id, title=doc_id.title())
    texts = [f"{doc_id} {n}" for n in range(chunks)]
    registry.replace_document(
        metadata, version, " ".join(texts), [Chunk(doc_id, n, t, 0, len(t)) for n, t in enumerate(texts)]
    )


def test_changed_since_names_the_documents_written_and_deleted(tmp_path):
    registry = Registry(tmp_path / "registry.sqlite3")
    _write(registry, "alpha", chunks=2)
    _write(registry, "beta")
    assert registry.changed_since(0) == ({"alpha", "beta"}, 3)
    start = registry.revision()
    _write(registry, "alpha", "v2", chunks=3)
    registry.delete_document("beta")
    assert registry.changed_since(start) == ({"alpha", "beta"}, 3)
    assert registry.changed_since(registry.revision()) == (set(), 0)
    _write(registry, "beta", "v2")  # back again: a document, no more a deletion
    assert registry.changed_since(start + 2) == ({"beta"}, 1)
    registry.close()


def test_the_snapshot_follows_each_write_as_a_full_reload_would(tmp_path):
    registry = Registry(tmp_path / "registry.sqlite3")
    for doc_id in ("delta", "alpha", "charlie"):
        _write(registry, doc_id)
    registry.snapshot()
    _write(registry, "bravo")
    _write(registry, "alpha", "v2")
    registry.delete_document("charlie")
    documents, versions = registry.snapshot()
    fresh = Registry(tmp_path / "registry.sqlite3")
    assert list(documents) == list(fresh.snapshot()[0]) == ["alpha", "bravo", "delta"]
    assert versions == fresh.versions() == {"alpha": "v2", "bravo": "v1", "delta": "v1"}
    assert documents["alpha"].version == "v2"
    registry.close()
    fresh.close()


def test_a_registry_older_than_the_journal_asks_for_one_whole_sweep(tmp_path):
    registry = Registry(tmp_path / "registry.sqlite3")
    registry.mark_settled([EVERY_DOCUMENT])
    registry.mark_unsettled(["alpha", "beta"])
    registry.mark_settled(["beta"])
    assert registry.unsettled() == {"alpha"}
    with registry._db:
        registry._db.execute("DROP TABLE unsettled")
    registry.close()
    reopened = Registry(tmp_path / "registry.sqlite3")
    assert reopened.unsettled() == {EVERY_DOCUMENT}
    reopened.close()
