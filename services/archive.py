"""The pieces of a base archive: a checked zip reader (no path outside the archive, bounded
sizes, every file's SHA-256 against the manifest) and SQLite tables as JSON rows."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from kb.core.errors import ArchiveError

MANIFEST = "manifest.json"
FORMAT = "passerelles-archive"
FORMAT_VERSION = 1
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_BLOB = "$base64"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_member(name: str) -> PurePosixPath:
    """The member's relative path, or ``ArchiveError`` for an absolute path or a ``..``."""
    path = PurePosixPath(name)
    if not name or "\\" in name or "\x00" in name or path.is_absolute() or ".." in path.parts:
        raise ArchiveError(f"chemin interdit dans l'archive « {name} »")
    if name.startswith("/") or (path.parts and path.parts[0].endswith(":")):
        raise ArchiveError(f"chemin interdit dans l'archive « {name} »")
    return path


def read_manifest(archive: zipfile.ZipFile, max_bytes: int) -> dict:
    """The manifest, after checking every member's path and the archive's announced size."""
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    for name in names:
        safe_member(name)
    if MANIFEST not in names:
        raise ArchiveError("le fichier manifest.json est absent (ce n'est pas une archive de Passerelles)")
    if archive.getinfo(MANIFEST).file_size > MAX_MANIFEST_BYTES:
        raise ArchiveError("manifest.json est trop volumineux")
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (ValueError, zipfile.BadZipFile) as exc:
        raise ArchiveError("manifest.json est illisible") from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
    ):
        raise ArchiveError("manifest.json n'est pas celui d'une archive de Passerelles")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise ArchiveError("archive d'une version plus récente de Passerelles")
    listed = set(manifest["files"])
    unlisted = sorted(set(names) - listed - {MANIFEST})
    if unlisted:
        raise ArchiveError(f"fichier absent du manifeste : « {unlisted[0]} »")
    missing = sorted(listed - set(names))
    if missing:
        raise ArchiveError(f"fichier manquant : « {missing[0]} »")
    if sum(archive.getinfo(name).file_size for name in listed) > max_bytes:
        raise ArchiveError(f"contenu trop volumineux (plus de {max_bytes / 1_048_576:.0f} Mo)")
    return manifest


def extract_checked(archive: zipfile.ZipFile, manifest: dict, target: Path, max_bytes: int) -> None:
    """Every listed file written under ``target``, its bytes counted (a size in the zip's
    header may lie) and its SHA-256 compared with the manifest's."""
    written = 0
    for name, expected in sorted(manifest["files"].items()):
        destination = target.joinpath(*safe_member(name).parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            with archive.open(name) as source, open(destination, "wb") as sink:
                for block in iter(lambda: source.read(1 << 20), b""):
                    written += len(block)
                    if written > max_bytes:
                        raise ArchiveError(f"contenu trop volumineux (plus de {max_bytes / 1_048_576:.0f} Mo)")
                    digest.update(block)
                    sink.write(block)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:  # a damaged member (CRC, data)
            raise ArchiveError(f"« {name} » est illisible ({type(exc).__name__})") from exc
        if digest.hexdigest() != expected:
            raise ArchiveError(f"« {name} » ne correspond pas à son empreinte (archive corrompue ou modifiée)")


def dump_tables(path: Path) -> dict:
    """A SQLite file as its schema and its rows (``{"schema": [...], "tables": {name: rows}}``)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        connection.row_factory = sqlite3.Row
        schema = [
            row["sql"]
            for row in connection.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                "ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name"
            )
        ]
        tables = {}
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall():
            rows = connection.execute(f'SELECT * FROM "{name}"').fetchall()
            # sqlite3.Row is not a dict: iterating it yields the values, keys() the column names
            tables[name] = [{key: _jsonable(row[key]) for key in row.keys()} for row in rows]  # noqa: SIM118
        return {"schema": schema, "tables": tables}
    finally:
        connection.close()


def restore_tables(path: Path, dump: dict) -> None:
    """The SQLite file of ``dump_tables``, rebuilt."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            for statement in dump["schema"]:
                connection.execute(statement)
            for name, rows in dump["tables"].items():
                for row in rows:
                    columns = ", ".join(f'"{column}"' for column in row)
                    marks = ", ".join("?" * len(row))
                    values = [_from_json(value) for value in row.values()]
                    connection.execute(f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', values)
    finally:
        connection.close()


def _jsonable(value):
    return {_BLOB: base64.b64encode(value).decode()} if isinstance(value, bytes) else value


def _from_json(value):
    return base64.b64decode(value[_BLOB]) if isinstance(value, dict) and _BLOB in value else value
