"""Coordinator writes: add, replace and remove documents, searchable as soon as acknowledged.

Every accepted document is first written as a file under ``data_dir/documents`` (atomically,
fsynced), then indexed: the files are the source of truth, so ``kb reindex`` rebuilds the
whole index from them, and at start-up ``reconcile()`` re-indexes whatever a killed process
left between the two steps. Writes are serialised (one thread at a time in this process, one
process at a time on the data directory).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

from ingest.chunking import embedding_text
from ingest.discover import SIDECAR_SUFFIXES
from ingest.fiche import Fiche, validate_fiche
from ingest.pipeline import IngestReport, Ingestor, LoadedDocument, load_document, read_sidecar
from kb.audit import AuditLog
from kb.duplicates import DuplicateFinder, DuplicateParams
from kb.errors import ConflictError, DocumentError, NotFoundError, UploadTooLarge
from kb.index import KnowledgeIndex, writer_lock
from kb.settings import Settings

UPLOAD_TYPES = (".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm")


@dataclass(frozen=True)
class Submission:
    """A document ready to be checked and stored: its bytes, file type and metadata."""

    data: bytes
    suffix: str
    sidecar: dict
    doc_id: str | None = None


class DocumentWriter:
    def __init__(self, settings: Settings, index: KnowledgeIndex) -> None:
        self.settings = settings
        self.index = index
        self.files_dir = settings.data_dir / "documents"
        self.audit = AuditLog(settings.data_dir / "audit.jsonl")
        self.duplicates = DuplicateFinder(index, DuplicateParams.from_settings(settings))
        self.ingestor = Ingestor(index, settings)
        self._lock = threading.Lock()

    # -- building submissions --------------------------------------------------------------

    @staticmethod
    def from_fiche(data: object) -> tuple[Submission, Fiche]:
        fiche = validate_fiche(data)
        return Submission(fiche.to_markdown().encode("utf-8"), ".md", {}, fiche.doc_id), fiche

    def from_upload(self, filename: str, data: bytes, fields: dict[str, str]) -> Submission:
        suffix = Path(filename or "").suffix.lower()
        if suffix not in UPLOAD_TYPES:
            raise DocumentError(
                f"type de fichier non accepté « {suffix or 'sans extension'} » "
                f"(acceptés : {', '.join(UPLOAD_TYPES)})"
            )
        self.check_size(len(data))
        sidecar = {k: v for k, v in fields.items() if v not in (None, "")}
        if "themes" in sidecar and isinstance(sidecar["themes"], str):
            sidecar["themes"] = [t.strip() for t in sidecar["themes"].split(",") if t.strip()]
        return Submission(data, suffix, sidecar)

    def check_size(self, size: int) -> None:
        if size > self.settings.max_upload_bytes:
            raise UploadTooLarge(
                f"Fichier trop volumineux ({size / 1_048_576:.1f} Mo ; limite "
                f"{self.settings.max_upload_mb:g} Mo)."
            )

    # -- the write path --------------------------------------------------------------------

    def load(self, submission: Submission, filename_hint: str, replace: str | None) -> LoadedDocument:
        """Parse and check the submission without storing anything (content sniffed, not named)."""
        virtual = self.files_dir / f"{filename_hint}{submission.suffix}"
        sidecar = dict(submission.sidecar)
        if replace is not None:
            sidecar["id"] = replace
        elif submission.doc_id:
            sidecar.setdefault("id", submission.doc_id)
        sidecar_bytes = yaml.safe_dump(sidecar, allow_unicode=True).encode() if sidecar else b""
        return load_document(virtual, submission.data, sidecar, sidecar_bytes)

    def submit(
        self,
        submission: Submission,
        actor: str,
        *,
        filename_hint: str = "document",
        replace: str | None = None,
        dry_run: bool = False,
    ) -> dict:
        with self._lock:
            loaded = self.load(submission, filename_hint, replace)
            doc_id = loaded.metadata.doc_id
            existing = self.index.find(doc_id)
            if replace is None and existing is not None:
                raise ConflictError(
                    f"Le document « {doc_id} » existe déjà : utilisez PUT /documents/{doc_id} "
                    "pour le remplacer, ou donnez un autre identifiant."
                )
            if replace is not None and existing is None:
                raise NotFoundError(f"Aucun document « {replace} » dans l'index.")
            chunks = self.ingestor.chunk(loaded)
            vectors = self.ingestor.embed(
                [embedding_text(loaded.metadata.title, c) for c in chunks], IngestReport()
            )
            duplicates = self.duplicates.find(loaded.metadata, loaded.parsed.text, vectors, exclude=replace)
            result = {
                "doc_id": doc_id,
                "title": loaded.metadata.title,
                "doc_type": loaded.metadata.doc_type,
                "sector": loaded.metadata.sector,
                "chunks": len(chunks),
                "duplicates": duplicates,
            }
            if dry_run:
                return {**result, "dry_run": True, "valid": True, "stored": False}
            with writer_lock(self.settings.data_dir):
                stored_path = self._write_files(doc_id, submission, loaded)
                final = load_document(stored_path, submission.data, *read_sidecar(stored_path))
                self.ingestor.store(final, chunks, vectors)
                self._remove_other_files(doc_id, keep=stored_path)
            action = "remplacement" if replace else "ajout"
            self.audit.record(actor, action, doc_id, version=final.version, title=final.metadata.title)
            return {**result, "status": "replaced" if replace else "created", "stored": True}

    def delete(self, doc_id: str, actor: str) -> None:
        with self._lock, writer_lock(self.settings.data_dir):
            stored = self.index.get(doc_id)
            source = stored.metadata.source_path
            # the file goes first: a crash after it is repaired by reconcile() (prune)
            if source and Path(source).parent == self.files_dir.resolve():
                for path in _with_sidecars(Path(source)):
                    path.unlink(missing_ok=True)
            self.index.remove(doc_id)
        self.audit.record(actor, "suppression", doc_id, title=stored.metadata.title)

    def reconcile(self) -> IngestReport | None:
        """Index what the documents folder holds (after a crash between file and index)."""
        if not self.files_dir.exists():
            return None
        with self._lock, writer_lock(self.settings.data_dir):
            return self.ingestor.ingest_paths([self.files_dir], prune=True)

    # -- files -----------------------------------------------------------------------------

    def _write_files(self, doc_id: str, submission: Submission, loaded: LoadedDocument) -> Path:
        """File names come from the validated doc_id, never from the uploaded name."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        suffix = ".html" if submission.suffix == ".htm" else submission.suffix
        target = (self.files_dir / f"{doc_id}{suffix}").resolve()
        if target.parent != self.files_dir.resolve():
            raise DocumentError("identifiant de document invalide")
        sidecar = dict(submission.sidecar)
        if suffix not in (".md", ".markdown") or sidecar:
            sidecar["id"] = doc_id
            _atomic_write(target.with_name(target.name + ".meta.yaml"), yaml.safe_dump(sidecar, allow_unicode=True).encode())
        _atomic_write(target, submission.data)
        return target

    def _remove_other_files(self, doc_id: str, keep: Path) -> None:
        """A replacement in another format leaves no older file behind."""
        for path in self.files_dir.iterdir():
            base = path.name
            for suffix in SIDECAR_SUFFIXES:
                base = base.removesuffix(suffix)
            if Path(base).stem == doc_id and base != keep.name:
                path.unlink(missing_ok=True)


def _with_sidecars(path: Path) -> list[Path]:
    return [path] + [path.with_name(path.name + suffix) for suffix in SIDECAR_SUFFIXES]


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

