"""The project's one error hierarchy.

Every error carries its HTTP status and a complete French message for the user (``str(error)``),
plus, for validation errors, the list of problems field by field. The API maps them all with one
handler (``api/errors.py``); the CLI prints the message on one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Problem:
    """One problem of a request or a document: the field it concerns (or None) and why."""

    field: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message}

    def __str__(self) -> str:
        return f"{self.field} : {self.message}" if self.field else self.message


class KBError(Exception):
    """Base class: ``str(error)`` is a complete French sentence for the user."""

    http_status: ClassVar[int] = 400

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])

    @property
    def headers(self) -> dict[str, str] | None:
        return None

    def body(self) -> dict[str, Any]:
        """The JSON body of the HTTP response (``ErrorBody`` in the OpenAPI schema)."""
        return self._body(str(self))

    def _body(self, detail: str) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": detail}
        if self.problems:
            body["problems"] = [p.to_dict() for p in self.problems]
        return body


# -- bad input (4xx) -------------------------------------------------------------------------


class InvalidRequest(KBError):
    """A request the service cannot read: empty question, malformed JSON, bad parameters."""

    http_status = 422


class FiltersInvalid(InvalidRequest):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("Filtres invalides.", problems)


class FicheInvalid(InvalidRequest):
    """A fiche that does not follow the capitalisation template: every problem at once."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("Fiche invalide.", problems)


class DocumentError(KBError):
    """A source file cannot be turned into a document (corrupt, empty, too large…).

    The message is the reason alone (the CLI adds the file name); over HTTP it is a 422."""

    http_status = 422

    def body(self) -> dict[str, Any]:
        return self._body(f"Document refusé : {self}.")


class DocumentTooLarge(DocumentError):
    """Too much text or too many passages once extracted (a small compressed file may hold a lot)."""

    http_status = 413


class OcrUnavailable(DocumentError):
    """A scanned page needs OCR and Tesseract (or its language model) is not installed."""


class UploadTooLarge(KBError):
    http_status = 413

    @classmethod
    def file(cls, size: int, limit_mb: float) -> UploadTooLarge:
        """A document of ``size`` bytes past ``KB_MAX_UPLOAD_MB``."""
        size_mb, limit = (f"{size / 1_048_576:.1f}", f"{limit_mb:g}")
        return cls(f"Fichier trop volumineux ({size_mb.replace('.', ',')} Mo ; limite {limit.replace('.', ',')} Mo).")


class UnsupportedMediaType(KBError):
    http_status = 415


class Unauthorized(KBError):
    """A missing, wrong or revoked API key."""

    http_status = 401

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(KBError):
    """A valid key whose role does not allow the action (a contributor's key on a review route)."""

    http_status = 403


class NotFoundError(KBError):
    """The requested document does not exist in the index."""

    http_status = 404


class ConflictError(KBError):
    """The document already exists (POST) or two files claim one ``doc_id``.

    ``conflict`` tells a page what to offer: ``identifiant`` (update the existing document or
    choose another id), ``doublon`` (see ``DuplicateBlocked``)."""

    http_status = 409
    conflict: ClassVar[str] = "identifiant"

    def body(self) -> dict[str, Any]:
        return {**super().body(), "conflict": self.conflict}


class VersionConflict(ConflictError):
    """The document changed since the client read it (another person saved meanwhile): nothing
    is written, so the client can keep its text, reload and merge."""

    conflict = "version"


class DuplicateBlocked(ConflictError):
    """A strong duplicate of a published document: not published unless a reason is given."""

    conflict = "doublon"

    def __init__(self, message: str, duplicates: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.duplicates = duplicates

    def body(self) -> dict[str, Any]:
        return {"detail": str(self), "problems": [], "duplicates": self.duplicates, "conflict": self.conflict}


class DuplicateDocIdError(ConflictError):
    """Two different files claim the same ``doc_id``."""


class TooManyRequests(KBError):
    """A client sent more requests of one kind than allowed in a window (``Retry-After``)."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class MissingPathError(KBError):
    """A path given to ``kb ingest`` does not exist (the CLI exits with code 2)."""

    def __init__(self, path: Any) -> None:
        super().__init__(f"Chemin introuvable : {path}")
        self.path = path


class ArchiveError(KBError):
    """A base archive that cannot be imported (corrupted, unsafe, too large, from another tool),
    or a data directory that cannot receive one."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Archive refusée : {reason}. Rien n'a été écrit.")


# -- the service cannot work right now (503) --------------------------------------------------


class ServiceUnavailable(KBError):
    """A backend is down, the disk is read-only, or the index cannot be opened as configured."""

    http_status = 503

    def body(self) -> dict[str, Any]:
        return self._body(f"Service momentanément indisponible : {self}")


class BackendUnavailable(ServiceUnavailable):
    """The vector store or the database does not answer."""


class StorageReadOnly(ServiceUnavailable):
    """The data directory cannot be written."""


class IndexReplaced(ServiceUnavailable):
    """The generation a request was reading was dropped under it by a `kb reindex` run
    elsewhere; the next request opens the new one (``services/runtime.py``)."""


class IndexMismatchError(ServiceUnavailable):
    """The index was built with another embedding model or other chunking parameters."""


class IngestInterrupted(ServiceUnavailable):
    """An ingestion stopped because the embedding model could not be reached (an embeddings
    server down after its retries): the documents stored before are whole, the batch being
    embedded was not written. ``report`` is what the run did until then."""

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


# -- the disk is full (507) ---------------------------------------------------------------------

DISK_FULL = (
    "Espace disque insuffisant dans le dossier de données : rien n'a été enregistré. "
    "Libérez de la place (ou augmentez le quota), puis réessayez."
)


class InsufficientStorage(KBError):
    """The disk or the quota of the data directory is full (ENOSPC, EDQUOT, SQLite's « disk is
    full »): the write failed whole, nothing of it was kept."""

    http_status = 507

    def __init__(self, message: str = DISK_FULL) -> None:
        super().__init__(message)
