"""Files written whole or not at all, and the disk's refusals said in French."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from kb.core.errors import InsufficientStorage, KBError, StorageReadOnly

# What the libraries say when the disk is full (SQLite, Chroma's Rust side), for the errors
# that carry no errno.
_FULL_MARKERS = ("disk is full", "no space left on device", "disk quota exceeded")
_READ_ONLY_MARKERS = ("readonly database", "read-only file system")
_FULL = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS}
_DENIED = {errno.EACCES, errno.EPERM}
READ_ONLY = "le dossier de données est en lecture seule : les écritures sont impossibles."
DENIED = (
    "le dossier de données ne peut pas être écrit (permission refusée) : "
    "vérifiez KB_DATA_DIR et les droits du service sur ce dossier."
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) is a full disk or an exhausted quota."""
    return _caused_by(exc, _FULL, _FULL_MARKERS)


def is_read_only(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) is a read-only file system or database."""
    return _caused_by(exc, _READ_ONLY, _READ_ONLY_MARKERS)


def _caused_by(exc: BaseException, errnos: set[int], markers: tuple[str, ...]) -> bool:
    """Whether ``exc`` or one of its causes is an ``OSError`` with one of ``errnos``, or says one
    of ``markers`` (a database driver's message)."""
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.errno in errnos:
            return True
        if any(marker in str(cause).lower() for marker in markers):
            return True
    return False


def storage_error(exc: OSError) -> KBError | None:
    """The service's error for a refused write, said in French (a full disk: 507; a read-only
    or forbidden directory: 503), or None for any other failure."""
    if exc.errno in _FULL:
        return InsufficientStorage()
    if exc.errno in _READ_ONLY:
        return StorageReadOnly(READ_ONLY)
    if exc.errno in _DENIED or isinstance(exc, PermissionError):
        return StorageReadOnly(DENIED)
    return None


@contextmanager
def write_errors() -> Iterator[None]:
    """Around a write: a full disk, a read-only or forbidden directory become the service's
    French errors (``storage_error``); any other ``OSError`` goes on as it is."""
    try:
        yield
    except OSError as exc:
        mapped = storage_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to a temporary sibling, fsync it, then rename it over ``path`` (and fsync
    the folder): a reader or a crash sees the old file or the new one, never half of it. Each
    write is a new file (a new inode), which readers' freshness checks rely on. ``mode``: the
    permissions, set before the file appears (a key file is never readable by others). A write
    that fails (a full disk) leaves no temporary behind; see ``write_errors`` for its error."""
    temporary = path.with_name(f".{path.name}.tmp")
    with write_errors():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if mode is not None:
                os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            with suppress(OSError):  # never created, or the directory refuses even that
                os.unlink(temporary)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
