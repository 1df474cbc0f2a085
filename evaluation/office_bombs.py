"""Hostile DOCX, PPTX and ODT files (issue 31), built from the test fixtures as they stream:
however large a bomb inflates, building it never holds it (for the reader's and the API's tests,
and evaluation/bench_office_bombs.py)."""

from __future__ import annotations

import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "docs"
MB = 1 << 20


def office_with(base: Path, target: Path, member: str, pieces: Callable[[bytes], Iterator[bytes]]) -> Path:
    """A copy of the real office file ``base`` whose ``member`` is what ``pieces(original member)``
    yields, deflated as it streams: however large it inflates, the test never holds it."""
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            if info.filename != member:
                copy.writestr(info, source.read(info))
                continue
            with copy.open(member, "w") as out:
                for piece in pieces(source.read(info)):
                    out.write(piece)
    return target


def spaces_before(anchor: bytes, megabytes: int, before: bytes = b"", after: bytes = b""):
    def pieces(original: bytes) -> Iterator[bytes]:
        at = original.index(anchor)
        yield original[:at] + before
        block = b" " * MB
        for _ in range(megabytes):
            yield block
        yield after + original[at:]

    return pieces


def docx_body(count: int, block: Callable[[int], bytes], head: bytes = b"", tail: bytes = b""):
    """A document.xml body of ``count`` blocks (made 10,000 at a time)."""

    def pieces(original: bytes) -> Iterator[bytes]:
        yield original[: original.index(b"<w:body>") + len(b"<w:body>")] + head
        for start in range(0, count, 10_000):
            yield b"".join(block(n) for n in range(start, min(count, start + 10_000)))
        yield tail + b"</w:body></w:document>"

    return pieces


def lie_about_size(path: Path, member: str) -> Path:
    """The central directory says ``member`` holds its first 100 bytes (their CRC included):
    what zipfile hands out stops there, but a one-shot read() inflates the whole member first."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        head = archive.open(member).read(100)
    name = member.encode()
    entry = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    assert data[entry + 46 : entry + 46 + len(name)] == name
    struct.pack_into("<I", data, entry + 16, zlib.crc32(head))  # its CRC-32
    struct.pack_into("<I", data, entry + 24, len(head))  # its size (the compressed one, at +20, is true)
    path.write_bytes(bytes(data))
    return path


def replaced(base: str, member: str, pieces: Callable[[bytes], Iterator[bytes]], lie: bool = False):
    """A builder of the real file ``base`` with ``member`` replaced (its size a lie if ``lie``)."""

    def build(path: Path) -> Path:
        built = office_with(FIXTURES / base, path.with_suffix(Path(base).suffix), member, pieces)
        return lie_about_size(built, member) if lie else built

    return build


def padded(base: str, count: int, size: int):
    """A builder of the real file ``base`` with ``count`` more members of ``size`` spaces: none
    inflates to 1 MiB, past which a member is held to the ratio; the archive as a whole is."""

    def build(path: Path) -> Path:
        built = path.with_suffix(Path(base).suffix)
        shutil.copy(FIXTURES / base, built)
        with zipfile.ZipFile(built, "a", zipfile.ZIP_DEFLATED) as archive:
            for n in range(count):
                archive.writestr(f"customXml/bourrage{n}.xml", b" " * size)
        return built

    return build


_TEXT_RUN = b'<w:p><w:r><w:t xml:space="preserve">'
_END_RUN = b"</w:t></w:r></w:p>"
_SPACES_DOCX = spaces_before(b"</w:body>", 300, _TEXT_RUN, _END_RUN)
BOMBS: dict[str, Callable[[Path], Path]] = {
    "docx-300-Mo-d-espaces": replaced("methode.docx", "word/document.xml", _SPACES_DOCX),
    "pptx-300-Mo-d-espaces": replaced("diaporama.pptx", "ppt/slides/slide1.xml", spaces_before(b"</a:t>", 300)),
    "odt-300-Mo-d-espaces": replaced("reglement.odt", "content.xml", spaces_before(b"</text:p>", 300)),
    "docx-taille-declaree-mensongere": replaced("methode.docx", "word/document.xml", _SPACES_DOCX, lie=True),
    "pptx-180-parties-de-1-Mo": padded("diaporama.pptx", 180, 1_000_000),
    "docx-1-million-de-paragraphes-vides": replaced(
        "methode.docx", "word/document.xml", docx_body(1_000_000, lambda n: b"<w:p/>")
    ),
    "docx-1-million-de-paragraphes-numerotes": replaced(
        "methode.docx",
        "word/document.xml",
        docx_body(1_000_000, lambda n: b"<w:p><w:r><w:t>%d</w:t></w:r></w:p>" % n),
    ),
    "docx-cellule-sur-un-milliard-de-colonnes": replaced(
        "methode.docx",
        "word/document.xml",
        docx_body(
            1,
            lambda n: (
                b'<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="1000000000"/></w:tcPr>'
                b"<w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
            ),
        ),
    ),
    # 200 rows of 50 cells merged with the row above: python-docx looks each one up from the top
    "docx-fusions-verticales": replaced(
        "methode.docx",
        "word/document.xml",
        docx_body(
            200,
            lambda n: (
                b"<w:tr>"
                + (
                    b"".join(
                        b'<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>c%d</w:t></w:r></w:p></w:tc>'
                        % c
                        for c in range(50)
                    )
                    if n == 0
                    else b"<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>" * 50
                )
                + b"</w:tr>"
            ),
            head=b"<w:tbl><w:tblGrid>" + b"<w:gridCol/>" * 50 + b"</w:tblGrid>",
            tail=b"</w:tbl>",
        ),
    ),
}


def build_bomb(name: str, folder: Path) -> Path:
    return BOMBS[name](folder / name)
