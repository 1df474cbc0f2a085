"""Values derived from every current document, kept in step with the registry incrementally.

The filter values in use (``services/knowledge_base.py``) and the families of versions
(``kb/search/versions.py``) are read on every search and change with every write. Rebuilding them from
all the documents on the first read after each write costs a pass over the whole base (0.1 s
at 100,000 passages); a ``DocumentTally`` instead takes out what the documents written or
deleted since its last revision gave (``changed_since``) and adds what they give now.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar

from kb.core.models import StoredDocument
from kb.storage.registry_snapshots import SNAPSHOT_MAX_CHANGES

Result = TypeVar("Result")


class RevisionedRegistry(Protocol):
    """What a tally reads of a registry (what ``RegistrySnapshots`` gives both backends' registries)."""

    def revisioned_snapshot(self) -> tuple[int, Mapping[str, StoredDocument]]: ...

    def changed_since(self, revision: int) -> tuple[set[str], int] | None: ...


class DocumentTally(Generic[Result]):
    """A running tally over the current documents (``add``/``discard`` one document, ``clear``)
    and the result read from it (``result``), computed once per revision of the registry.

    Invariant: the tally holds exactly what the documents of the snapshot it was last brought
    to gave. Each update takes out the entries that snapshot had for the changed ids and adds
    the new snapshot's: a superset of the ids really changed (a write after the snapshot was
    read) is harmless, as both sides come from snapshots, not from the registry's rows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: tuple[int, Mapping[str, StoredDocument], Result] | None = None

    def clear(self) -> None:
        raise NotImplementedError

    def add(self, stored: StoredDocument) -> None:
        raise NotImplementedError

    def discard(self, stored: StoredDocument) -> None:
        raise NotImplementedError

    def result(self, documents: Mapping[str, StoredDocument]) -> Result:
        raise NotImplementedError

    def current(self, registry: RevisionedRegistry) -> Result:
        revision, documents = registry.revisioned_snapshot()
        state = self._state
        if state is not None and state[0] == revision:
            return state[2]
        with self._lock:
            return self._bring_to(registry, revision, documents)

    @contextmanager
    def up_to_date(self, registry: RevisionedRegistry) -> Iterator[None]:
        """The tally brought to the registry's revision and held (its lock) while it is read:
        for a tally read through its own methods rather than one ``result``."""
        revision, documents = registry.revisioned_snapshot()
        with self._lock:
            self._bring_to(registry, revision, documents)
            yield

    def _bring_to(self, registry: RevisionedRegistry, revision: int, documents: Mapping[str, StoredDocument]) -> Result:
        state = self._state
        if state is not None and state[0] == revision:
            return state[2]
        changed = registry.changed_since(state[0]) if state is not None else None
        if state is None or changed is None or len(changed[0]) > SNAPSHOT_MAX_CHANGES:
            self.clear()
            for stored in documents.values():
                self.add(stored)
        else:
            before = state[1]
            for doc_id in changed[0]:
                old, new = before.get(doc_id), documents.get(doc_id)
                if old is new:
                    continue
                if old is not None:
                    self.discard(old)
                if new is not None:
                    self.add(new)
        result = self.result(documents)
        self._state = (revision, documents, result)
        return result
