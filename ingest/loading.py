"""Step 1 of the ingestion, load: a file's bytes (and its sidecar's) -> its text, structure,
normalised metadata and version hash. Plain functions, used by the pipeline, the file store,
the editors and the evaluation tools alike."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import ChunkingParams
from ingest.discover import sidecar_for
from ingest.metadata import build_metadata, merge_metadata
from ingest.readers import DEFAULT_OPTIONS, ReaderOptions, parse_bytes
from ingest.yaml_metadata import load_metadata_yaml
from kb.core.models import DocumentMetadata, ParsedDocument
from kb.core.settings import Settings

# Bump when a reader's output changes, so that re-ingesting picks up the new extraction.
# 2: pages of a PDF without text layer are OCRed.
# 3: ``publics`` read; the sector, territory and publics the metadata lacks inferred (ingest/inference.py).
READER_VERSION = "3"


@dataclass(frozen=True)
class LoadedDocument:
    metadata: DocumentMetadata
    version: str
    parsed: ParsedDocument


def chunking_params(settings: Settings) -> ChunkingParams:
    return ChunkingParams(
        max_chars=settings.chunk_max_chars,
        overlap_chars=settings.chunk_overlap_chars,
        min_chars=settings.chunk_min_chars,
    )


def read_sidecar(path: Path) -> tuple[dict, bytes]:
    sidecar = sidecar_for(path)
    if sidecar is None:
        return {}, b""
    raw = sidecar.read_bytes()
    return parse_sidecar(raw, sidecar.name), raw


def parse_sidecar(raw: bytes, name: str) -> dict:
    """The metadata of a sidecar's bytes (``{}`` for none)."""
    if not raw:
        return {}
    return load_metadata_yaml(raw.decode("utf-8", errors="replace"), f"métadonnées de {name}")


def document_version(data: bytes, sidecar_bytes: bytes = b"") -> str:
    """What decides whether a file must be read again: its bytes, its sidecar's, the readers'."""
    return hashlib.sha256(READER_VERSION.encode() + b"\0" + data + b"\0" + sidecar_bytes).hexdigest()[:16]


def load_document(
    path: Path,
    data: bytes,
    sidecar: dict | None = None,
    sidecar_bytes: bytes = b"",
    options: ReaderOptions = DEFAULT_OPTIONS,
    parsed: ParsedDocument | None = None,
) -> LoadedDocument:
    """Step 1, load: bytes -> text, structure and normalised metadata (``parsed``: the same
    bytes already read, e.g. OCRed, under another name)."""
    parsed = parsed or parse_bytes(path, data, options)
    raw = merge_metadata(parsed.raw_metadata, sidecar or {})
    metadata = build_metadata(
        raw, path=path, detected_title=parsed.detected_title, content_hash=hashlib.sha256(data).hexdigest()
    )
    return LoadedDocument(metadata, document_version(data, sidecar_bytes), parsed)
