"""Find the files to ingest under the paths a coordinator gives.

Folders are walked recursively, following symbolic links but never twice into the same real
directory (a link loop is reported, not followed forever). Hidden entries and the globs of a
``.kbignore`` file (gitignore-like, relative to its folder) are skipped.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from ingest.readers import READERS
from kb.core.errors import MissingPathError

IGNORE_FILE = ".kbignore"
SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml")


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    problems: list[tuple[Path, str]] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)


def _ignore_patterns(directory: Path) -> list[str]:
    ignore_file = directory / IGNORE_FILE
    if not ignore_file.is_file():
        return []
    lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(relative: str, is_dir: bool, patterns: list[tuple[Path, list[str]]], path: Path) -> bool:
    for base, globs in patterns:
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            continue
        for pattern in globs:
            directory_only = pattern.endswith("/")
            glob = pattern.rstrip("/").lstrip("/")
            if directory_only and not is_dir:
                # a file inside an ignored folder is handled when the folder is skipped
                continue
            if fnmatch.fnmatch(rel, glob) or fnmatch.fnmatch(path.name, glob):
                return True
    return False


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in READERS and not path.name.endswith(SIDECAR_SUFFIXES)


def discover(paths: list[Path]) -> Discovery:
    found = Discovery()
    seen_files: set[Path] = set()
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise MissingPathError(given)
        if given.is_file():
            if given.resolve() not in seen_files:
                seen_files.add(given.resolve())
                found.files.append(given)
            continue
        if given.is_symlink() and not given.exists():
            found.problems.append((given, "lien symbolique cassé"))
            continue
        found.roots.append(given.resolve())
        _walk(given, found, seen_files)
    return found


def _walk(root: Path, found: Discovery, seen_files: set[Path]) -> None:
    visited: set[str] = set()
    patterns: list[tuple[Path, list[str]]] = []
    for directory, subdirs, files in os.walk(root, followlinks=True):
        current = Path(directory)
        real = os.path.realpath(directory)
        if real in visited:
            found.problems.append((current, "boucle de liens symboliques : ce dossier a déjà été parcouru"))
            subdirs[:] = []
            continue
        visited.add(real)
        local = _ignore_patterns(current)
        if local:
            patterns.append((current, local))
        kept = []
        for name in sorted(subdirs):
            sub = current / name
            if name.startswith(".") or _ignored(name, True, patterns, sub):
                continue
            kept.append(name)
        subdirs[:] = kept
        for name in sorted(files):
            path = current / name
            if name.startswith(".") or _ignored(name, False, patterns, path):
                continue
            if not is_supported(path):
                continue
            if path.is_symlink() and not path.exists():
                found.problems.append((path, "lien symbolique cassé"))
                continue
            resolved = path.resolve()
            if resolved in seen_files:
                continue
            seen_files.add(resolved)
            found.files.append(path)


def sidecar_for(path: Path) -> Path | None:
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    return None
