"""``kb export`` and ``kb import``: a whole base as one zip in an open layout (docs/operations.md).

The archive holds the original files and their sidecars (``documents/``), every document's
metadata (``catalogue.json``), the audit log, the keys' names and dates but never their digests
(``keys.json``), the partner sites, the proposals when the base has some, the question log only
when asked for, the vectors (``vectors/``, services/archive_vectors.py), and ``manifest.json``
with the SHA-256 of every other file. An import verifies everything before writing anything,
into an empty data directory only, then indexes the documents with the normal ingestion,
whose model calls are answered from the archive's vectors when the configured model is the one
that computed them (any other model embeds everything again). Each document keeps its first
publication date (the feed's), through a ``reprise`` entry of the audit log when the log
itself does not date it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ingest.discover import SIDECAR_SUFFIXES, sidecar_for
from ingest.loading import chunking_params
from ingest.report import IngestReport
from kb.core.clock import timestamp
from kb.core.errors import ArchiveError, KBError
from kb.core.settings import Settings
from kb.index.embeddings import Embedder
from kb.records.audit import audit_entry, entry_line
from kb.search.calibration import valid_records
from kb.storage.backend import open_backend
from kb.storage.embedded.audit import AuditLog
from kb.storage.embedded.backend import REGISTRY_FILE
from kb.storage.embedded.registry import Registry
from services import archive_vectors
from services.archive import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    dump_tables,
    extract_checked,
    read_manifest,
    restore_tables,
    sha256_file,
)
from services.feed import CARRIED_DATE, CARRIED_PUBLICATION, publication_dates, undated_publications

DOCUMENTS = "documents"
PROPOSALS_DB = "proposals.sqlite"
QUESTIONS_DB = "questions.sqlite"
RAPPROCHEMENTS_DB = "rapprochements.sqlite"  # the coordinator's marks on rapprochements
TABLES = "tables.json"
IMPORT_ACTOR = "kb import"
_ON_POSTGRES = (
    "L'archive porte sur une base embarquée (KB_DATA_DIR). Pour une base PostgreSQL, utilisez "
    "`kb migrate` (vers ou depuis un dossier de données) ou les sauvegardes de PostgreSQL (pg_dump)."
)


@dataclass
class ExportReport:
    counts: dict[str, int]
    missing_sources: list[str] = field(default_factory=list)  # doc_ids whose file is gone


@dataclass
class ImportReport:
    counts: dict[str, int]
    indexing: IngestReport | None = None
    model: str = ""  # the configured model, which the import's new vectors come from
    archived_model: str | None = None  # the model of the archive's vectors (None: it has none)
    vectors_reused: int = 0  # texts whose vector came from the archive
    vectors_embedded: int = 0  # texts the model embedded (all of them when the model differs)
    dates_carried: int = 0  # ``reprise`` entries recorded to keep first publication dates


class _ArchiveWriter:
    """Members added with their SHA-256, for the manifest."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.files: dict[str, str] = {}

    def add_file(self, name: str, path: Path) -> None:
        if name in self.files:
            raise KBError(f"Deux fichiers portent le nom « {name} » dans l'archive.")
        self.archive.write(path, name)
        self.files[name] = sha256_file(path)

    def add_json(self, name: str, data) -> None:
        self.add_bytes(name, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))

    def add_bytes(self, name: str, payload: bytes, compress_type: int | None = None) -> None:
        self.archive.writestr(name, payload, compress_type=compress_type)
        self.files[name] = hashlib.sha256(payload).hexdigest()


def export_base(settings: Settings, archive_path: Path, questions: bool = False) -> ExportReport:
    """Write the base of ``settings`` to ``archive_path`` (replaced atomically)."""
    data_dir = settings.data_dir
    backend = open_backend(settings)
    if backend.shared:
        raise KBError(_ON_POSTGRES)
    registry_path = backend.current_location().directory / REGISTRY_FILE
    if not registry_path.exists():
        raise KBError(f"Aucune base dans « {data_dir} » : rien à exporter (vérifiez KB_DATA_DIR).")
    archive_path = archive_path.resolve()
    archive_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = archive_path.with_name(f".{archive_path.name}.tmp")
    with backend.writer_lock():  # a consistent snapshot: no write meanwhile
        registry = Registry(registry_path)
        try:
            stored = list(registry.documents())
            index_info = registry.info()
            calibration = valid_records(registry.calibration())
        finally:
            registry.close()
        try:
            with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                writer = _ArchiveWriter(archive)
                report = _write_contents(writer, settings, stored, questions)
                vectors = archive_vectors.write(writer, settings)
                report.counts["vectors"] = vectors["count"]
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": timestamp(),
                    "counts": report.counts,
                    "index": index_info,
                    # `kb calibrate`'s records (per model): the import keeps those of its model
                    "calibration": calibration,
                    "settings": {
                        "embedding_backend": settings.embedding_backend,
                        **{f"chunk_{k}": v for k, v in chunking_params(settings).as_record().items()},
                    },
                    "vectors": vectors,
                    "files": writer.files,
                }
                archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            os.replace(temporary, archive_path)
        finally:
            temporary.unlink(missing_ok=True)
    return report


def _write_contents(writer: _ArchiveWriter, settings: Settings, stored, questions: bool) -> ExportReport:
    data_dir = settings.data_dir
    files_dir = (data_dir / DOCUMENTS).resolve()
    report = ExportReport(counts={})
    audit = data_dir / "audit.jsonl"
    published = publication_dates(stored, AuditLog(audit).entries() if audit.exists() else [])
    if files_dir.is_dir():
        for path in sorted(files_dir.rglob("*")):
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(files_dir).parts):
                writer.add_file(f"{DOCUMENTS}/{path.relative_to(files_dir).as_posix()}", path)
    catalogue = []
    for document in stored:
        meta = document.metadata
        source = Path(meta.source_path) if meta.source_path else None
        name = None
        if source is not None and source.resolve().is_relative_to(files_dir):
            name = f"{DOCUMENTS}/{source.resolve().relative_to(files_dir).as_posix()}"
        elif source is not None and source.is_file():
            # a document indexed from elsewhere (`kb ingest FOLDER`): its file joins the others,
            # under its own name unless taken (then under its doc_id, which its id stays)
            name = f"{DOCUMENTS}/{source.name}"
            if name in writer.files:
                name = f"{DOCUMENTS}/{meta.doc_id}{source.suffix.lower()}"
            writer.add_file(name, source)
            sidecar = sidecar_for(source)
            if sidecar is not None:
                writer.add_file(name + sidecar.name[len(source.name) :], sidecar)
        else:
            report.missing_sources.append(meta.doc_id)
        metadata = meta.to_dict()
        del metadata["source_path"]  # a path of the server: the archive names its own file
        catalogue.append(
            {
                "doc_id": meta.doc_id,
                "file": name,
                "metadata": metadata,
                "version": document.version,
                "indexed_at": document.indexed_at,
                "published_at": published[meta.doc_id],
                "chunks": document.chunk_count,
            }
        )
    writer.add_json("catalogue.json", catalogue)
    audit_lines = 0
    if audit.exists():
        writer.add_file("audit.jsonl", audit)
        audit_lines = sum(1 for line in audit.read_text(encoding="utf-8").splitlines() if line)
    keys = _read_json(data_dir / "keys.json", [])
    # never the digests: an archive must not give access to the base it came from
    writer.add_json("keys.json", [{k: v for k, v in row.items() if k != "digest"} for row in keys])
    partners = _read_json(data_dir / "partners.json", [])
    writer.add_json("partners.json", partners)
    counts = {
        "documents": len(catalogue),
        "files": sum(1 for name in writer.files if name.startswith(f"{DOCUMENTS}/")),
        "audit_entries": audit_lines,
        "keys": len(keys),
        "partners": len(partners),
    }
    if (data_dir / PROPOSALS_DB).exists():
        dump = dump_tables(data_dir / PROPOSALS_DB)
        writer.add_json(f"proposals/{TABLES}", dump)
        counts["proposals"] = sum(len(rows) for rows in dump["tables"].values())
        proposal_files = data_dir / "proposals"
        if proposal_files.is_dir():
            for path in sorted(proposal_files.rglob("*")):
                if path.is_file():
                    writer.add_file(f"proposals/files/{path.relative_to(proposal_files).as_posix()}", path)
    if (data_dir / RAPPROCHEMENTS_DB).exists():
        dump = dump_tables(data_dir / RAPPROCHEMENTS_DB)
        writer.add_json(f"rapprochements/{TABLES}", dump)
        counts["rapprochements"] = sum(len(rows) for rows in dump["tables"].values())
    if questions and (data_dir / QUESTIONS_DB).exists():
        dump = dump_tables(data_dir / QUESTIONS_DB)
        writer.add_json(f"questions/{TABLES}", dump)
        counts["questions"] = sum(len(rows) for rows in dump["tables"].values())
    report.counts = counts
    return report


def _read_json(path: Path, default):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else default


def import_base(settings: Settings, archive_path: Path, embedder: Embedder | None = None, **callbacks) -> ImportReport:
    """Rebuild a base from an archive into the (empty) data directory of ``settings``.

    Everything is checked first (paths, sizes, checksums, contents) in a staging folder next
    to the data directory: a refused archive leaves nothing behind. The keys come back as
    revoked names (their digests are not exported): new keys must be created."""
    if open_backend(settings).shared:
        raise KBError(_ON_POSTGRES)
    data_dir = settings.data_dir.resolve()
    existed = data_dir.exists()
    if existed and any(data_dir.iterdir()):
        raise ArchiveError(
            f"le dossier de données « {settings.data_dir} » n'est pas vide ; importez dans un dossier vide (KB_DATA_DIR)"
        )
    if not archive_path.is_file():
        raise ArchiveError(f"fichier introuvable « {archive_path} »")
    staging = data_dir.parent / f".{data_dir.name}.import-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        try:
            with zipfile.ZipFile(archive_path) as archive:
                manifest = read_manifest(archive, settings.archive_max_bytes)
                extract_checked(archive, manifest, staging / "archive", settings.archive_max_bytes)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
            raise ArchiveError("fichier zip illisible") from exc
        archived = archive_vectors.load(staging / "archive")
        calibration = valid_records(manifest.get("calibration"))
        catalogue = _catalogue(staging / "archive")
        counts = _assemble(staging / "archive", staging / "data")
        if existed:
            data_dir.rmdir()
        os.replace(staging / "data", data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report = ImportReport(counts=counts, archived_model=archived.model if archived else None)
    documents = data_dir / DOCUMENTS
    if documents.is_dir():
        try:
            report.indexing = archive_vectors.ingest(settings, documents, embedder, archived, report, callbacks)
            report.dates_carried = _carry_dates(settings, catalogue)
            if calibration:
                _restore_calibration(settings, calibration)
        except BaseException:
            shutil.rmtree(data_dir, ignore_errors=True)  # back to the empty directory it was
            if existed:
                data_dir.mkdir()
            raise
    return report


def _restore_calibration(settings: Settings, records: list[dict]) -> None:
    registry = Registry(open_backend(settings).current_location().directory / REGISTRY_FILE)
    try:
        registry.set_calibration(records)
    finally:
        registry.close()


def _catalogue(unpacked: Path) -> dict[str, str]:
    """doc_id → first publication date, from the catalogue (an older archive has only the
    ``indexed_at`` its feed then showed)."""
    catalogue = _load(unpacked / "catalogue.json", [])
    _check(isinstance(catalogue, list) and all(isinstance(row, dict) for row in catalogue), "catalogue.json")
    dates = {}
    for row in catalogue:
        published = row.get("published_at") or row.get("indexed_at")
        if isinstance(row.get("doc_id"), str) and isinstance(published, str):
            dates[row["doc_id"]] = published
    return dates


def _carry_dates(settings: Settings, catalogue: dict[str, str]) -> int:
    """A ``reprise`` entry for each imported document whose first publication the restored
    audit log does not date (services/feed.py), appended at once."""
    audit = settings.data_dir / "audit.jsonl"
    entries = AuditLog(audit).entries()
    present = {document.metadata.doc_id for document in _documents(settings)}
    missing = undated_publications(entries, {k: v for k, v in catalogue.items() if k in present})
    if missing:
        lines = "".join(
            entry_line(audit_entry(IMPORT_ACTOR, CARRIED_PUBLICATION, doc_id, **{CARRIED_DATE: at}))
            for doc_id, at in missing.items()
        )
        with open(audit, "a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())
    return len(missing)


def _documents(settings: Settings):
    registry = Registry(open_backend(settings).current_location().directory / REGISTRY_FILE)
    try:
        return list(registry.documents())
    finally:
        registry.close()


def _assemble(unpacked: Path, data: Path) -> dict[str, int]:
    """The data directory's files from the unpacked archive (contents checked on the way)."""
    data.mkdir(parents=True)
    counts = {"documents": 0, "keys": 0, "partners": 0, "audit_entries": 0}
    if (unpacked / DOCUMENTS).is_dir():
        os.replace(unpacked / DOCUMENTS, data / DOCUMENTS)
        counts["documents"] = sum(
            1 for path in (data / DOCUMENTS).rglob("*") if path.is_file() and not path.name.endswith(SIDECAR_SUFFIXES)
        )
    if (unpacked / "audit.jsonl").exists():
        lines = (unpacked / "audit.jsonl").read_text(encoding="utf-8", errors="replace").splitlines()
        try:
            entries = [json.loads(line) for line in lines if line]
        except ValueError as exc:
            raise ArchiveError("« audit.jsonl » est illisible") from exc
        _check(all(isinstance(entry, dict) for entry in entries), "audit.jsonl")
        counts["audit_entries"] = sum(1 for line in lines if line)
        os.replace(unpacked / "audit.jsonl", data / "audit.jsonl")
    partners = _load(unpacked / "partners.json", [])
    _check(isinstance(partners, list) and all(isinstance(p, dict) and "origin" in p for p in partners), "partners.json")
    if partners:
        (data / "partners.json").write_text(json.dumps(partners, ensure_ascii=False, indent=1), encoding="utf-8")
    counts["partners"] = len(partners)
    keys = _load(unpacked / "keys.json", [])
    _check(isinstance(keys, list) and all(isinstance(k, dict) and k.get("name") for k in keys), "keys.json")
    if keys:
        # names only: placeholders that no presented key can match, revoked
        now = timestamp()
        placeholders = [{**key, "digest": "", "revoked_at": key.get("revoked_at") or now} for key in keys]
        (data / "keys.json").write_text(json.dumps(placeholders, indent=1), encoding="utf-8")
        os.chmod(data / "keys.json", 0o600)
    counts["keys"] = len(keys)
    for folder, database in (
        ("proposals", PROPOSALS_DB),
        ("questions", QUESTIONS_DB),
        ("rapprochements", RAPPROCHEMENTS_DB),
    ):
        dump = _load(unpacked / folder / TABLES, None)
        if dump is None:
            continue
        _check(isinstance(dump, dict) and isinstance(dump.get("tables"), dict), f"{folder}/{TABLES}")
        try:
            restore_tables(data / database, dump)
        except Exception as exc:  # any SQL of a damaged dump
            raise ArchiveError(f"« {folder}/{TABLES} » ne peut pas être rétabli ({type(exc).__name__})") from exc
        counts[folder] = sum(len(rows) for rows in dump["tables"].values())
    if (unpacked / "proposals" / "files").is_dir():
        os.replace(unpacked / "proposals" / "files", data / "proposals")
    return counts


def _load(path: Path, default):
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"« {path.name} » est illisible") from exc


def _check(condition: bool, name: str) -> None:
    if not condition:
        raise ArchiveError(f"« {name} » n'a pas la forme attendue")
