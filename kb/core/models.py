"""The shared vocabulary, used from the store to the API: document, chunk, passage, citation.

Library types (Chroma records, numpy arrays) never leave ``kb/``; they are converted to these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def source_path_name(path: str | None) -> str | None:
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else None


def page_url(base_url: str, doc_id: str, passage: int | None = None) -> str:
    """The public page of a document (``/fiches/{doc_id}``), at a passage when given; relative
    unless the site's base URL is set (KB_PUBLIC_URL)."""
    from urllib.parse import quote

    url = f"{base_url.rstrip('/')}/fiches/{quote(doc_id, safe='')}"
    return url if passage is None else f"{url}#passage-{passage}"


def chunk_id(doc_id: str, version: str, index: int) -> str:
    """The one way a chunk is named in every store: ``doc_id::version::index``."""
    return f"{doc_id}::{version}::{index:04d}"


def parse_chunk_id(value: str) -> tuple[str, str, int]:
    """(doc_id, version, index) of a chunk id built by ``chunk_id``."""
    doc_id, version, index = value.rsplit("::", 2)
    return doc_id, version, int(index)


@dataclass(frozen=True)
class DocumentMetadata:
    doc_id: str
    title: str
    doc_type: str = "document"
    sector: str | None = None
    themes: tuple[str, ...] = ()
    territory: str | None = None
    date: str | None = None
    porteur: str | None = None
    source_url: str | None = None
    source_path: str | None = None
    content_hash: str = ""
    # the ids of the documents this one revises (front matter ``replaces``/``remplace``); they
    # need not exist (yet): the version relations are made of the current documents (kb/search/versions.py)
    replaces: tuple[str, ...] = ()
    # ``extra["inferred"]``: the fields ingestion inferred because the metadata did not give them
    # ({"sector": "texte", …}, ingest/inference.py); a field given by hand is never listed there
    extra: dict[str, Any] = field(default_factory=dict)
    # whom the document concerns: labels of kb/core/publics.py (front matter ``publics``, else
    # inferred from the text); absent from older registries
    publics: tuple[str, ...] = ()

    def inferred(self, name: str) -> str | None:
        """How a field was inferred (``"en-tête"``, ``"texte"``…), or None when it was given."""
        marks = self.extra.get("inferred")
        value = marks.get(name) if isinstance(marks, dict) else None
        return value if isinstance(value, str) else None

    @property
    def source_name(self) -> str | None:
        """The source file's name: what public responses show (never a server path)."""
        return source_path_name(self.source_path)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["themes"] = list(self.themes)
        data["replaces"] = list(self.replaces)
        data["publics"] = list(self.publics)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentMetadata:
        values = dict(data)
        values["themes"] = tuple(values.get("themes") or ())
        values["replaces"] = tuple(values.get("replaces") or ())  # absent from older registries
        values["publics"] = tuple(values.get("publics") or ())  # likewise
        values["extra"] = dict(values.get("extra") or {})
        return cls(**values)


@dataclass(frozen=True)
class Section:
    """A structural unit of a parsed document: a heading's body or a PDF page."""

    start: int
    end: int
    path: tuple[str, ...] = ()
    page: int | None = None


@dataclass(frozen=True)
class ParsedDocument:
    """What a reader returns: the extracted text, its structure and the raw metadata found."""

    text: str
    sections: tuple[Section, ...]
    raw_metadata: dict[str, Any]
    detected_title: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A bounded passage of a document, with its provenance in the document's text."""

    doc_id: str
    index: int
    text: str
    start: int
    end: int
    section: tuple[str, ...] = ()
    page: int | None = None

    @property
    def section_label(self) -> str:
        return " > ".join(self.section)


@dataclass(frozen=True)
class StoredDocument:
    metadata: DocumentMetadata
    version: str
    chunk_count: int
    indexed_at: str


@dataclass(frozen=True)
class Passage:
    """A chunk found by a search, with its score."""

    chunk: Chunk
    score: float
    metadata: DocumentMetadata


@dataclass(frozen=True)
class ChunkHit:
    """A chunk a search found, before its text is read: a fusion ranks hundreds of these and
    reads the text of the few passages it keeps (``KnowledgeIndex.read_passages``)."""

    chunk_id: str
    doc_id: str
    index: int
    score: float
    metadata: DocumentMetadata


@dataclass(frozen=True)
class Scope:
    """Which documents a search may return. Applied inside both searches (as metadata
    conditions in the vector store, as a row mask in BM25), never after them."""

    doc_types: tuple[str, ...] = ()  # empty: any type
    sectors: tuple[str, ...] = ()  # empty: any sector
    doc_ids: tuple[str, ...] | None = None  # None: any document
    # Only the matches near the top matter (an answer's other sector): the vector store's
    # filtered query, whose cost grows with the base, is not run; a type/sector scope keeps what
    # an unfiltered query of KB_SCOPE_OVERFETCH_MAX vectors finds inside it.
    near_top_only: bool = False

    def is_empty(self) -> bool:
        return self.doc_ids is not None and not self.doc_ids

    def admits(self, meta: DocumentMetadata) -> bool:
        return (
            (not self.doc_types or meta.doc_type in self.doc_types)
            and (not self.sectors or meta.sector in self.sectors)
            and (self.doc_ids is None or meta.doc_id in self.doc_ids)
        )


@dataclass(frozen=True)
class StoredFile:
    """A document's original as received: ``name`` (``<doc_id><suffix>`` for the writer's files,
    the file's own name for an ingested one), the ``source_path`` the index records for it,
    its bytes and its sidecar's (``b""`` without one), and the version the ingestion computed
    from them (what the registry holds once the file is indexed)."""

    doc_id: str
    name: str
    source_path: str
    data: bytes
    sidecar: bytes
    version: str

    @property
    def suffix(self) -> str:
        dot = self.name.rfind(".")
        return self.name[dot:].lower() if dot > 0 else ""
