"""What a search returns: a document with its score, best passages and other versions."""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.core.models import DocumentMetadata, Passage


@dataclass
class DocumentHit:
    metadata: DocumentMetadata
    score: float
    passages: list[Passage] = field(default_factory=list)
    other_versions: list[DocumentMetadata] = field(default_factory=list)  # kb/search/versions.py
