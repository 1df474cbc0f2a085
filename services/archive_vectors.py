"""The vectors of a base archive: written by ``kb export``, reused by ``kb import`` when the
configured model is the one that computed them (docs/operations.md).

Two members, both in the manifest with their SHA-256 and counted in ``KB_ARCHIVE_MAX_MB``:

- ``vectors/vectors.npy``: one float32 array (NumPy's ``.npy`` format, no pickle), one row per
  distinct text the model embedded (a passage as the model saw it, title and section
  included, or one of its sentences when the index keeps sentence vectors);
- ``vectors/index.json``: ``{"format": 1, "model": …, "dimension": …, "texts": [SHA-256 of
  each row's text (UTF-8), in row order]}``.

A vector is found again by its text, not by a document's position: the import runs the normal
ingestion (reading, chunking, metadata), and only the model call is replaced by a look-up. A
text the archive lacks (another chunking, a file changed) is embedded as usual, so a reused
vector is always the one this very model computed for this very text.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

from ingest.chunking import embedding_text
from ingest.report import IngestReport
from kb.core.errors import ArchiveError
from kb.core.settings import Settings
from kb.index.embeddings import Embedder, create_embedder
from kb.index.knowledge_index import KnowledgeIndex
from kb.index.sentence_vectors import passage_sentences
from services import runtime
from services.migration import open_recorded, recorded_description

INDEX = "vectors/index.json"
ARRAY = "vectors/vectors.npy"
VECTORS_FORMAT = 1
BATCH_DOCUMENTS = 100
_NORM_TOLERANCE = 1e-3  # every embedder returns L2-normalised rows


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def collect(index: KnowledgeIndex) -> tuple[dict, np.ndarray]:
    """(the index json, the array) of every current passage and sentence of ``index``. A
    document whose stored vectors do not match its passages (a base to reindex) is left out:
    its texts will be embedded again on import."""
    rows: dict[str, np.ndarray] = {}
    stored = index.documents()
    for start in range(0, len(stored), BATCH_DOCUMENTS):
        batch = stored[start : start + BATCH_DOCUMENTS]
        doc_ids = [document.metadata.doc_id for document in batch]
        passages = index.documents_vectors(doc_ids)
        sentences = index.documents_sentence_vectors(doc_ids) or {}
        for document in batch:
            doc_id = document.metadata.doc_id
            chunks = index.document_chunks(doc_id)
            found = passages.get(doc_id)
            if found is None or len(found) != len(chunks):
                continue
            texts = [embedding_text(document.metadata.title, chunk) for chunk in chunks]
            vectors = list(found)
            split = [sentence for chunk in chunks for sentence in passage_sentences(chunk.text)]
            if doc_id in sentences and len(sentences[doc_id]) == len(split):
                texts += split
                vectors += list(sentences[doc_id])
            for text, vector in zip(texts, vectors, strict=True):
                rows.setdefault(text_key(text), vector)
    dimension = int(index.embedder.dimension)
    array = np.asarray(list(rows.values()), dtype=np.float32).reshape(len(rows), dimension)
    description = {
        "format": VECTORS_FORMAT,
        "model": index.embedder.model_id,
        "dimension": dimension,
        "texts": list(rows),
    }
    return description, array


def write(writer, settings: Settings) -> dict[str, Any]:
    """Add the members of the base of ``settings`` to ``writer`` (services/portability.py's, which
    lists them in the manifest); what the manifest says of them (model, dimension, count)."""
    index = open_recorded(settings, recorded_description(settings))
    try:
        description, array = collect(index)
    finally:
        index.close()
    writer.add_json(INDEX, description)
    buffer = BytesIO()
    np.save(buffer, array, allow_pickle=False)
    # float noise does not deflate: stored as is, it is written and read faster
    writer.add_bytes(ARRAY, buffer.getvalue(), compress_type=zipfile.ZIP_STORED)
    return {"model": description["model"], "dimension": description["dimension"], "count": len(array)}


def ingest(
    settings: Settings, documents: Path, embedder: Embedder | None, archived: ArchivedVectors | None, report, callbacks
) -> IngestReport:
    """The normal ingestion of an import's restored files, with the archive's vectors when the
    configured model (id and dimension) is the one that computed them; ``report`` (an
    ``ImportReport``) gets the model and what was reused or embedded."""
    model = embedder or create_embedder(settings)
    report.model = model.model_id
    if archived is None or (archived.model, archived.dimension) != (model.model_id, model.dimension):
        indexing = runtime.ingest(settings, [documents], embedder=model, **callbacks)
        report.vectors_embedded = indexing.chunks_written
        return indexing
    reusing = ReusingEmbedder(model, archived)
    indexing = runtime.ingest(settings, [documents], embedder=reusing, **callbacks)
    report.vectors_reused, report.vectors_embedded = reusing.reused, reusing.embedded
    return indexing


@dataclass
class ArchivedVectors:
    model: str
    dimension: int
    rows: dict[str, int]  # text key → row of ``array``
    array: np.ndarray


def load(unpacked: Path) -> ArchivedVectors | None:
    """The vectors of an unpacked (and checksummed) archive, None when it has none (an archive
    of an older Passerelles); ``ArchiveError`` for members that do not hold together."""
    index_path, array_path = unpacked / INDEX, unpacked / ARRAY
    if not index_path.exists() and not array_path.exists():
        return None
    if not index_path.exists() or not array_path.exists():
        raise ArchiveError(f"« {INDEX} » et « {ARRAY} » vont ensemble : l'un des deux manque")
    try:
        description = json.loads(index_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"« {INDEX} » est illisible") from exc
    shape_ok = (
        isinstance(description, dict)
        and description.get("format") == VECTORS_FORMAT
        and isinstance(description.get("model"), str)
        and description["model"]
        and type(description.get("dimension")) is int
        and description["dimension"] > 0
        and isinstance(description.get("texts"), list)
        and all(isinstance(key, str) and len(key) == 64 for key in description["texts"])
    )
    if not shape_ok:
        raise ArchiveError(f"« {INDEX} » n'a pas la forme attendue")
    try:
        array = np.load(array_path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ArchiveError(f"« {ARRAY} » est illisible ({type(exc).__name__})") from exc
    texts, dimension = description["texts"], description["dimension"]
    if array.dtype != np.float32 or array.shape != (len(texts), dimension):
        raise ArchiveError(
            f"« {ARRAY} » ne correspond pas à son index ({array.dtype} {array.shape} pour "
            f"{len(texts)} textes de dimension {dimension})"
        )
    if len(set(texts)) != len(texts):
        raise ArchiveError(f"« {INDEX} » nomme deux fois le même texte")
    norms = np.linalg.norm(array, axis=1) if len(array) else np.ones(0)
    if not np.all(np.isfinite(array)) or not np.all(np.abs(norms - 1.0) <= _NORM_TOLERANCE):
        raise ArchiveError(f"« {ARRAY} » contient des vecteurs invalides (non normés ou non finis)")
    return ArchivedVectors(description["model"], dimension, {key: row for row, key in enumerate(texts)}, array)


class ReusingEmbedder:
    """The configured model, whose passage calls are answered from the archive's vectors when
    it has the text, and by the model otherwise (in one call for what is missing)."""

    def __init__(self, model: Embedder, archived: ArchivedVectors) -> None:
        self._model = model
        self._archived = archived
        self.model_id = model.model_id
        self.dimension = model.dimension
        self.reused = 0
        self.embedded = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        rows = [self._archived.rows.get(text_key(text)) for text in texts]
        result = np.empty((len(texts), self.dimension), dtype=np.float32)
        missing = [number for number, row in enumerate(rows) if row is None]
        if missing:
            result[missing] = self._model.embed_passages([texts[number] for number in missing])
        found = [(number, row) for number, row in enumerate(rows) if row is not None]
        if found:
            numbers, archived = zip(*found, strict=True)
            result[list(numbers)] = self._archived.array[list(archived)]
        self.reused += len(found)
        self.embedded += len(missing)
        return result

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.embed_query(text)

    def __getattr__(self, name: str):  # count_tokens and whatever else a model offers
        return getattr(self._model, name)
