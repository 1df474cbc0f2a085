"""A data directory on a disk that fails, simulated in the process: tests run as root, where
``chmod`` stops no write, and may not mount anything.

``read_only``: every change under the folder fails with EROFS (opening a file to write it,
creating, renaming, removing) and the SQLite connections refuse writes as on a read-only
mount (``PRAGMA query_only``: "attempt to write a readonly database"). ``full``: files are
created, but writing their bytes fails with ENOSPC (a full disk or an exhausted quota), as it
does at the file layer.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest

from kb.storage.embedded.sqlite import ThreadConnections

_WRITE_MODES = set("wax+")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = ("replace", "rename", "unlink", "remove", "mkdir", "rmdir", "chmod")


def _inside(path: Any, root: Path) -> bool:
    if not isinstance(path, (str, bytes, os.PathLike)) or isinstance(path, bytes):
        return False
    return Path(os.path.abspath(os.fspath(path))).is_relative_to(root)


def _fault(code: int, path: Any) -> OSError:
    return OSError(code, os.strerror(code), os.fspath(path))


class _FullFile:
    """A file just created on a full disk: its bytes never fit."""

    def __init__(self, handle, path: Any) -> None:
        self._handle = handle
        self._path = path

    def write(self, data) -> int:
        raise _fault(errno.ENOSPC, self._path)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self._handle.close()

    def __getattr__(self, name: str):
        return getattr(self._handle, name)


def simulate(monkeypatch: pytest.MonkeyPatch, root: Path, fault: str) -> None:
    """From now on (until the test ends), ``root`` is on a ``read_only`` or ``full`` disk."""
    assert fault in ("read_only", "full")
    root = Path(os.path.abspath(root))
    real_open, real_os_open = builtins.open, os.open

    def fake_open(file, mode="r", *args, **kwargs):
        if _inside(file, root) and _WRITE_MODES & set(mode):
            if fault == "read_only":
                raise _fault(errno.EROFS, file)
            return _FullFile(real_open(file, mode, *args, **kwargs), file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if fault == "read_only" and _inside(path, root) and flags & _WRITE_FLAGS:
            raise _fault(errno.EROFS, path)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)  # pathlib's own way in
    monkeypatch.setattr(os, "open", fake_os_open)
    if fault == "full":
        return
    for name in _CHANGES:
        real = getattr(os, name)

        def refused(*args, _real=real, **kwargs):
            if any(_inside(arg, root) for arg in args):
                raise _fault(errno.EROFS, next(arg for arg in args if _inside(arg, root)))
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, refused)
    real_get = ThreadConnections.get

    def read_only_connection(self):
        connection = real_get(self)
        if _inside(self._path, root):
            connection.execute("PRAGMA query_only = ON")
        return connection

    monkeypatch.setattr(ThreadConnections, "get", read_only_connection)
