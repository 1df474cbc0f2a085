"""Where the coordinator's documents keep their original files: one interface, two places.

* ``FolderFileStore`` (embedded): ``data_dir/documents/<doc_id><suffix>`` (+ ``.meta.yaml``),
  written atomically before the index switch. The files a write replaces or removes are first
  moved aside (``data_dir/stash/``) and put back if the index refuses the change; after a kill,
  ``recover()`` puts back the stashed files of a write that never completed and the writer
  re-indexes the folder (file written, index not switched → indexed).
* ``DatabaseFileStore`` (PostgreSQL): the ``kb_files`` row (``kb/storage/postgres/files.py``) is written in
  the very transaction that switches the registry to the new version (or deletes it), so the
  file and the index change together or not at all; a kill leaves both old or both new, and
  only vectors of the unfinished version, which are invisible and swept.

Order on PostgreSQL, for a write: new vectors (invisible), then one transaction {file row,
registry switch}, then the old vectors go. The index can therefore never name a version whose
file is missing, and no local disk is involved: any server on the base serves the file.
"""

from __future__ import annotations

import logging
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from ingest.discover import SIDECAR_SUFFIXES
from ingest.loading import document_version, read_sidecar
from kb.core.errors import DocumentError
from kb.core.files import atomic_write, write_errors
from kb.core.models import StoredFile
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.storage.protocols import Alongside, KeptFiles

logger = logging.getLogger("passerelles.files")
# The folder named in the source path of a document the writer stored in the database: a name
# for the coordinator, never a path of any server.
STORED_FOLDER = "documents"
# The index switch of a write: given the write to commit in its transaction (or None).
Switch = Callable[[Alongside | None], None]
# The longest stored name (``<doc_id><suffix>``): with the dot and ``.tmp`` of an atomic write
# and the sidecar's suffix, 255 bytes, the limit of the usual filesystems (ext4, XFS, Btrfs, ZFS).
MAX_NAME_BYTES = 255 - len(".") - len(SIDECAR_SUFFIXES[0]) - len(".tmp")


class FileStore(ABC):
    """Original files of the documents the writer stores."""

    folder: Path | None = None  # the files' folder on this machine (embedded), else None

    @abstractmethod
    def source_path(self, name: str) -> str:
        """What the index records as the source of the file ``name`` once stored."""

    @abstractmethod
    def write(self, doc_id: str, new: StoredFile | None, switch: Switch) -> None:
        """Replace ``doc_id``'s file by ``new`` (None: remove it) and run ``switch`` (the index
        change); when ``switch`` fails, the old file is what stays."""

    @abstractmethod
    def original(self, doc_id: str, source_path: str | None) -> StoredFile | None:
        """The stored original of a document (None when there is none any more)."""

    def has_original(self, doc_id: str, source_path: str | None) -> bool:
        """Whether ``original`` would find a file (without reading it)."""
        return self.original(doc_id, source_path) is not None

    def recover(self) -> None:  # noqa: B027 - a no-op by default: only the folder store has work left
        """Settle what a killed process left (at start-up, under the writer lock)."""

    def check_name(self, name: str) -> None:
        """File names come from the validated doc_id, never from the uploaded name; with what
        the store adds (``.<name>.meta.yaml.tmp``), one fits any filesystem's 255 bytes."""
        if not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
            raise DocumentError("identifiant de document invalide")
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise DocumentError(
                f"nom de fichier trop long ({len(name.encode('utf-8'))} octets, {MAX_NAME_BYTES} au plus)"
            )


class FolderFileStore(FileStore):
    def __init__(self, data_dir: Path) -> None:
        self.folder: Path = data_dir / "documents"
        self.stash_dir = data_dir / "stash"

    def source_path(self, name: str) -> str:
        return str((self.folder / name).resolve())

    def has_original(self, doc_id: str, source_path: str | None) -> bool:
        return source_path is not None and bool(source_path) and Path(source_path).is_file()

    def write(self, doc_id: str, new: StoredFile | None, switch: Switch) -> None:
        with write_errors():  # a full disk (507) or a read-only folder (503), in French
            stash = self._stash(doc_id)
            try:
                if new is not None:
                    self._write_files(new)
                switch(None)
            except BaseException:
                self._unstash(doc_id, stash)
                raise
        shutil.rmtree(stash, ignore_errors=True)

    def original(self, doc_id: str, source_path: str | None) -> StoredFile | None:
        path = Path(source_path or "")
        if not source_path or not path.is_file():
            return None
        data = path.read_bytes()
        _, sidecar = read_sidecar(path)
        return StoredFile(doc_id, path.name, source_path, data, sidecar, document_version(data, sidecar))

    def recover(self) -> None:  # noqa: B027 - a no-op by default: only the folder store has work left
        """Stashed files go back where their document has no file any more (the write never
        completed); otherwise the new files won and the stash goes."""
        if not self.stash_dir.exists():
            return
        for stash in sorted(self.stash_dir.iterdir()):
            if self._files_of(stash.name):
                shutil.rmtree(stash, ignore_errors=True)
            else:
                self._unstash(stash.name, stash)

    def _write_files(self, new: StoredFile) -> None:
        self.check_name(new.name)
        self.folder.mkdir(parents=True, exist_ok=True)
        target = (self.folder / new.name).resolve()
        if target.parent != self.folder.resolve():
            raise DocumentError("identifiant de document invalide")
        if new.sidecar:
            atomic_write(target.with_name(target.name + SIDECAR_SUFFIXES[0]), new.sidecar)
        atomic_write(target, new.data)

    def _files_of(self, doc_id: str) -> list[Path]:
        """The files (document and sidecars, any format) of ``doc_id`` in the documents folder."""
        if not self.folder.exists():
            return []
        found = []
        for path in self.folder.iterdir():
            base = path.name
            for suffix in SIDECAR_SUFFIXES:
                base = base.removesuffix(suffix)
            if path.is_file() and not path.name.startswith(".") and Path(base).stem == doc_id:
                found.append(path)
        return found

    def _stash(self, doc_id: str) -> Path:
        """Move the document's current files aside (atomic renames): a replacement in another
        format leaves no older file behind, and a failed write can put them back."""
        stash = self.stash_dir / doc_id
        shutil.rmtree(stash, ignore_errors=True)
        stash.mkdir(parents=True, exist_ok=True)
        for path in self._files_of(doc_id):
            os.replace(path, stash / path.name)
        return stash

    def _unstash(self, doc_id: str, stash: Path) -> None:
        """Undo a write: remove what it wrote, put the stashed files back."""
        try:
            for path in self._files_of(doc_id):
                path.unlink(missing_ok=True)
            if stash.exists():
                for path in stash.iterdir():
                    os.replace(path, self.folder / path.name)
                stash.rmdir()
        except OSError:
            logger.exception("could not restore the files of %s from %s", doc_id, stash)


class DatabaseFileStore(FileStore):
    """The originals kept by a shared backend with its registry (``kb/storage/postgres/files.py``)."""

    def __init__(self, kept_files: KeptFiles) -> None:
        self.files = kept_files

    def source_path(self, name: str) -> str:
        return f"{STORED_FOLDER}/{name}"

    def write(self, doc_id: str, new: StoredFile | None, switch: Switch) -> None:
        if new is not None:
            self.check_name(new.name)
        switch(self.files.put_in(new) if new is not None else self.files.delete_in(doc_id))

    def original(self, doc_id: str, source_path: str | None) -> StoredFile | None:
        return self.files.get(doc_id)

    def has_original(self, doc_id: str, source_path: str | None) -> bool:
        return self.files.has(doc_id)


def open_file_store(settings: Settings, index: KnowledgeIndex) -> FileStore:
    """The backend's own store when it keeps the originals (PostgreSQL), else the data
    directory's folder."""
    if index.kept_files is not None:
        return DatabaseFileStore(index.kept_files)
    return FolderFileStore(settings.data_dir)
