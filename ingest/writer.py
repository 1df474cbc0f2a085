"""Coordinator writes: add, replace and remove documents, searchable as soon as acknowledged.

Every accepted document keeps its original file in the file store (``ingest/file_store.py``:
``data_dir/documents`` embedded, the ``kb_files`` table on PostgreSQL), stored with its index
switch: the files are the source of truth, so ``kb reindex`` rebuilds the whole index from
them, and at start-up ``reconcile()`` settles whatever a killed process left between the two
steps. Writes are serialised (one thread at a time in this process, one process at a time on
the base).

A failed write changes nothing: the file store keeps the old file when the index refuses the
change (a vector store or a database that is down, a read-only disk); see the file store's
docstring for the order of the steps on each backend.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest.chunking import embedding_text
from ingest.fiche import Fiche, check_upload_metadata, validate_fiche
from ingest.file_store import open_file_store
from ingest.loading import LoadedDocument, document_version, load_document, parse_sidecar
from ingest.metadata import merge_metadata
from ingest.pipeline import Ingestor
from ingest.readers import parse_bytes
from ingest.report import IngestReport
from kb.core.errors import ConflictError, DocumentError, NotFoundError, UploadTooLarge, VersionConflict
from kb.core.models import DocumentMetadata, ParsedDocument, StoredFile
from kb.core.settings import Settings
from kb.duplicates.finder import DuplicateFinder, DuplicateParams
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.calibration import calibration_of

UPLOAD_TYPES = (".md", ".markdown", ".txt", ".pdf", ".docx", ".pptx", ".odt", ".html", ".htm")


@dataclass(frozen=True)
class Submission:
    """A document ready to be checked and stored: its bytes, file type and metadata.

    ``strict``: an upload through the API, whose metadata (the file's own and ``sidecar``, the
    form fields) must hold every required field; replacing a document, it keeps the replaced
    document's metadata for what neither gives."""

    data: bytes
    suffix: str
    sidecar: dict
    doc_id: str | None = None
    strict: bool = False


# What a replacing upload keeps of the replaced document when neither the file nor the form
# says otherwise (canonical names, as ``merge_metadata`` returns them); never a value ingestion
# inferred (``extra["inferred"]``): the new file's text is read for it again.
KEPT_ON_REPLACE = ("title", "doc_type", "sector", "themes", "territory", "porteur", "date", "replaces", "publics")


@dataclass(frozen=True)
class AuditEntry:
    """How a write is recorded in the audit log (default: ``ajout`` or ``remplacement``)."""

    action: str
    details: dict = field(default_factory=dict)


class DocumentWriter:
    def __init__(self, settings: Settings, index: KnowledgeIndex) -> None:
        self.settings = settings
        self.index = index
        self.files = open_file_store(settings, index)
        self.audit = index.backend.audit_log()
        # the meaning threshold as calibrated for the index's model (kb/search/calibration.py)
        self.duplicates = DuplicateFinder(index, DuplicateParams.from_settings(settings, calibration_of(index)))
        self.ingestor = Ingestor(index, settings)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Give back the audit log's connections (PostgreSQL); the index is closed by its owner."""
        self.audit.close()

    # -- building submissions --------------------------------------------------------------

    @staticmethod
    def from_fiche(data: object) -> tuple[Submission, Fiche]:
        fiche = validate_fiche(data)
        return Submission(fiche.to_markdown().encode("utf-8"), ".md", {}, fiche.doc_id), fiche

    def from_upload(self, filename: str, data: bytes, fields: dict[str, str]) -> Submission:
        suffix = Path(filename or "").suffix.lower()
        if suffix not in UPLOAD_TYPES:
            raise DocumentError(
                f"type de fichier non accepté « {suffix or 'sans extension'} » (acceptés : {', '.join(UPLOAD_TYPES)})"
            )
        self.check_size(len(data))
        sidecar: dict[str, str | list[str]] = {k: v for k, v in fields.items() if v not in (None, "")}
        if "themes" in sidecar and isinstance(sidecar["themes"], str):
            sidecar["themes"] = [t.strip() for t in sidecar["themes"].split(",") if t.strip()]
        return Submission(data, suffix, sidecar, strict=True)

    def check_size(self, size: int) -> None:
        if size > self.settings.max_upload_bytes:
            raise UploadTooLarge.file(size, self.settings.max_upload_mb)

    # -- the write path --------------------------------------------------------------------

    def load(
        self, submission: Submission, filename_hint: str, replace: str | None
    ) -> tuple[LoadedDocument, Submission]:
        """Parse and check the submission without storing anything (content sniffed, not named);
        the submission comes back completed with what a strict one keeps of the replaced document."""
        virtual = Path(self.files.source_path(f"{filename_hint}{submission.suffix}"))
        try:
            parsed = parse_bytes(virtual, submission.data, self.ingestor.reader_options)
            if submission.strict:
                submission = self._completed(submission, parsed, replace)
            sidecar = dict(submission.sidecar)
            if replace is not None:
                sidecar["id"] = replace
            elif submission.doc_id:
                sidecar.setdefault("id", submission.doc_id)
            sidecar_bytes = yaml.safe_dump(sidecar, allow_unicode=True).encode() if sidecar else b""
            loaded = self.ingestor.completed(
                load_document(virtual, submission.data, sidecar, sidecar_bytes, parsed=parsed)
            )
            if submission.strict:
                check_upload_metadata(merge_metadata(parsed.raw_metadata, submission.sidecar))
        except (RecursionError, MemoryError, ValueError, TypeError, LookupError) as exc:
            # a reader library choking on a hostile file: refused, never a 500
            raise DocumentError(f"fichier illisible ({type(exc).__name__})") from exc
        return loaded, submission

    def _completed(self, submission: Submission, parsed: ParsedDocument, replace: str | None) -> Submission:
        """A strict submission with the replaced document's metadata where neither the file nor
        the form gives a value (the form wins, then the file)."""
        if replace is None:
            return submission
        existing = self.index.find(replace)
        if existing is None:
            raise _not_found(replace)
        given = merge_metadata(parsed.raw_metadata, submission.sidecar)
        kept = {k: v for k, v in _kept_metadata(existing.metadata).items() if k not in given}
        return dataclasses.replace(submission, sidecar={**kept, **submission.sidecar})

    def submit(
        self,
        submission: Submission,
        actor: str,
        *,
        filename_hint: str = "document",
        replace: str | None = None,
        dry_run: bool = False,
        audit: AuditEntry | None = None,
        check: Callable[[dict, DocumentMetadata, Submission], None] | None = None,
        expected_version: str | None = None,
    ) -> dict:
        """Check and store a document (or only check it: ``dry_run``).

        ``expected_version``: the version of ``replace`` the client read; another one stored
        meanwhile is a ``VersionConflict``, checked under both locks (another server may write).

        ``check`` sees the result (id, duplicates…), the metadata and the submission (completed
        with what a strict one keeps of the replaced document) once the document is read,
        under the write lock and before anything is stored; it may refuse by raising. ``audit``: how
        the write is recorded (default ``ajout`` or ``remplacement``)."""
        # Read (and OCR) before taking the lock: other writes need not wait for it.
        loaded, submission = self.load(submission, filename_hint, replace)
        with self._lock:
            doc_id = loaded.metadata.doc_id
            self._check_presence(doc_id, replace)
            self.check_version(doc_id, expected_version)
            chunks = self.ingestor.chunk(loaded)
            vectors = self.ingestor.embed([embedding_text(loaded.metadata.title, c) for c in chunks], IngestReport())
            duplicates = self.duplicates.find(loaded.metadata, loaded.parsed.text, vectors, exclude=replace)
            result = {
                "doc_id": doc_id,
                "title": loaded.metadata.title,
                "doc_type": loaded.metadata.doc_type,
                "sector": loaded.metadata.sector,
                "chunks": len(chunks),
                "duplicates": duplicates,
            }
            if check is not None:
                check(result, loaded.metadata, submission)
            if dry_run:
                return {**result, "dry_run": True, "valid": True, "stored": False}
            with self.index.backend.writer_lock():
                # again under the base's lock: another server may have written this id meanwhile
                self._check_presence(doc_id, replace)
                self.check_version(doc_id, expected_version)
                if self.index.orphans_pending:
                    self.index.sweep_orphans()
                new = self._stored_file(doc_id, submission)
                final = self.ingestor.completed(
                    load_document(
                        Path(new.source_path),
                        new.data,
                        parse_sidecar(new.sidecar, new.name),
                        new.sidecar,
                        parsed=loaded.parsed,
                    )
                )
                self.files.write(
                    doc_id, new, lambda alongside: self.ingestor.store(final, chunks, vectors, alongside=alongside)
                )
                self.index.persist_derived()
            audit = audit or AuditEntry("remplacement" if replace else "ajout")
            self.audit.record(
                actor, audit.action, doc_id, version=final.version, title=final.metadata.title, **audit.details
            )
            return {**result, "status": "replaced" if replace else "created", "stored": True}

    def _check_presence(self, doc_id: str, replace: str | None) -> None:
        """A new document's id must be free; a replaced one must exist."""
        existing = self.index.find(doc_id)
        if replace is None and existing is not None:
            raise ConflictError(
                f"Le document « {doc_id} » existe déjà : utilisez PUT /documents/{doc_id} "
                "pour le remplacer, ou donnez un autre identifiant."
            )
        if replace is not None and existing is None:
            raise _not_found(replace)

    def check_version(self, doc_id: str, expected: str | None) -> None:
        """``VersionConflict`` unless ``doc_id`` is still at version ``expected`` (when given)."""
        existing = self.index.find(doc_id) if expected is not None else None
        if existing is not None and existing.version != expected:
            raise VersionConflict(
                f"« {existing.metadata.title} » a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert : "
                "rien n'a été enregistré. Gardez votre texte, rechargez le document et reportez-y vos modifications."
            )

    def delete(self, doc_id: str, actor: str) -> None:
        with self._lock, self.index.backend.writer_lock():
            stored = self.index.get(doc_id)
            self.files.write(doc_id, None, lambda alongside: self.index.remove(doc_id, alongside))
            self.index.persist_derived()
        self.audit.record(actor, "suppression", doc_id, title=stored.metadata.title)

    def reconcile(self) -> IngestReport | None:
        """Settle what a killed process left. Embedded: stashed files go back where their
        document has no file any more (the write never completed), then the folder is indexed
        (new files in, removed files out). PostgreSQL: file and index switch in one
        transaction, so only the invisible vectors of an unfinished write remain (swept), and
        any stored file whose version the index lacks is indexed (a safety net)."""
        with self._lock, self.index.backend.writer_lock():
            self.files.recover()
            if self.files.folder is not None:
                if not self.files.folder.exists():
                    return None
                return self.ingestor.ingest_paths([self.files.folder], prune=True)
            kept = self.ingestor.kept_files
            assert kept is not None, "without a folder, the files are kept in the database"
            versions = {doc.metadata.doc_id: doc.version for doc in self.index.documents()}
            behind = [doc_id for doc_id, version in kept.versions().items() if versions.get(doc_id) != version]
            return self.ingestor.ingest_stored(behind)

    def _stored_file(self, doc_id: str, submission: Submission) -> StoredFile:
        """The file as stored: named from the validated doc_id, never from the uploaded name;
        a sidecar holds the metadata a file cannot (any format but Markdown, or given fields)."""
        suffix = ".html" if submission.suffix == ".htm" else submission.suffix
        name = f"{doc_id}{suffix}"
        sidecar = dict(submission.sidecar)
        sidecar_bytes = b""
        if suffix not in (".md", ".markdown") or sidecar:
            sidecar["id"] = doc_id
            sidecar_bytes = yaml.safe_dump(sidecar, allow_unicode=True).encode()
        return StoredFile(
            doc_id,
            name,
            self.files.source_path(name),
            submission.data,
            sidecar_bytes,
            document_version(submission.data, sidecar_bytes),
        )


def _not_found(doc_id: str) -> NotFoundError:
    return NotFoundError(f"Aucun document « {doc_id} » dans l'index.")


def _kept_metadata(metadata: DocumentMetadata) -> dict:
    values = {name: getattr(metadata, name) for name in KEPT_ON_REPLACE if metadata.inferred(name) is None}
    for name in ("themes", "replaces", "publics"):
        if name in values:
            values[name] = list(values[name])
    return {name: value for name, value in values.items() if value not in (None, "", [])}
