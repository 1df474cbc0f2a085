"""Files written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to a temporary sibling, fsync it, then rename it over ``path`` (and fsync
    the folder): a reader or a crash sees the old file or the new one, never half of it. Each
    write is a new file (a new inode), which readers' freshness checks rely on. ``mode``: the
    permissions, set before the file appears (a key file is never readable by others)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if mode is not None:
        os.chmod(temporary, mode)
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
