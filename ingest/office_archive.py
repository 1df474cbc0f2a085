"""ZIP containers (DOCX, PPTX, ODT) checked before their library reads them, and the reading of
their content bounded as it goes: a small archive can inflate to gigabytes (issue 31)."""

from __future__ import annotations

import copy
import io
import zipfile
import zlib

from ingest.reader_base import ReaderOptions
from kb.core.errors import DocumentError, DocumentTooLarge

_MB = 1 << 20
_CENTRAL_RECORD = b"PK\x01\x02"  # how each member's record in the central directory starts
_RATIO_GRACE = _MB  # a member, or an archive, that inflates to less is not held to the ratio
_INFLATE_CHUNK = _MB
_BEFORE_XML = b"\xef\xbb\xbf\xfe\xff\x00 \t\r\n"  # byte-order marks, UTF-16/32 zeros, blanks
_EBCDIC_XML = b"\x4c\x6f\xa7\x94"  # "<?xm" in EBCDIC, which libxml2 reads: its "<" is no 0x3C


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def _decimal(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _size(size: int) -> str:
    """A size in French: ``300,8 Mo``, ``2,0 Go``."""
    if size >= 1 << 30:
        return f"{size / (1 << 30):.1f} Go".replace(".", ",")
    return f"{size / _MB:.1f} Mo".replace(".", ",")


def check_member_count(data: bytes, options: ReaderOptions) -> None:
    """Refuse an archive of too many members before zipfile reads its directory (200,000 empty
    members fit in 17 MB and take zipfile 110 MB): each member zipfile can list has a record
    starting with the central directory's signature, so counting the signature bounds them."""
    members = data.count(_CENTRAL_RECORD)
    if members > options.office_max_entries:
        raise DocumentError(
            f"archive refusée : {_number(members)} fichiers (au plus {_number(options.office_max_entries)}, "
            "réglable par KB_OFFICE_MAX_ENTRIES)"
        )


def check_archive(data: bytes, kind: str, options: ReaderOptions) -> None:
    """Refuse a DOCX, PPTX or ODT archive (``kind``) past the bounds before its library reads it.

    First from the central directory, nothing inflated: the number of members, their compression
    (stored or deflated only: zipfile inflates bzip2 and LZMA without bound in one call), the
    size they declare in all, and the compression ratio of each member and of the whole. Then
    every member is inflated here by chunks of 1 MiB, counting: the declared sizes can lie, and
    the libraries read a member at one go (``ZipFile.read``: zlib inflates the whole stream
    before zipfile cuts it to the declared size), so a member is read up to one byte past its
    declared size and refused if that byte comes: what the library inflates afterwards is then
    at most what was counted, memory here one chunk. The elements and attributes of the XML
    members are counted on the way (their ``<`` and ``=``): reading takes about 230 bytes for
    each, however well they compress."""
    check_member_count(data, options)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise DocumentError(f"{kind} illisible ou corrompu") from exc
    with archive:
        members = archive.infolist()
        _check_directory(members, kind, options)
        try:
            _check_inflation(archive, members, options)
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            ValueError,
            RuntimeError,
            NotImplementedError,
        ) as exc:
            raise DocumentError(f"{kind} illisible ou corrompu") from exc


def _check_directory(members: list[zipfile.ZipInfo], kind: str, options: ReaderOptions) -> None:
    for member in members:
        if member.flag_bits & 0x1:
            raise DocumentError(f"{kind} chiffré : protégé par un mot de passe")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DocumentError(
                f"{kind} illisible : « {member.filename} » est compressé d'une façon qu'aucun "
                f"logiciel de bureautique n'emploie (méthode {member.compress_type})"
            )
    inflated = sum(member.file_size for member in members)
    if inflated > options.office_max_uncompressed_mb * _MB:
        raise DocumentError(
            f"archive refusée : {_size(inflated)} une fois décompressée (au plus "
            f"{_decimal(options.office_max_uncompressed_mb)} Mo, réglable par KB_OFFICE_MAX_UNCOMPRESSED_MB)"
        )
    bound = f"au plus {_decimal(options.office_max_ratio)} fois, réglable par KB_OFFICE_MAX_RATIO"
    for member in members:
        if member.file_size > _RATIO_GRACE and member.file_size > options.office_max_ratio * member.compress_size:
            ratio = member.file_size / max(member.compress_size, 1)
            raise DocumentError(
                f"archive refusée : « {member.filename} » se décompresse en {_number(ratio)} fois sa taille ({bound})"
            )
    compressed = sum(member.compress_size for member in members)
    if inflated > _RATIO_GRACE and inflated > options.office_max_ratio * compressed:
        ratio = inflated / max(compressed, 1)
        raise DocumentError(f"archive refusée : elle se décompresse en {_number(ratio)} fois sa taille ({bound})")


def _check_inflation(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], options: ReaderOptions) -> None:
    nodes = 0
    for member in members:
        probe = copy.copy(member)
        probe.file_size = member.file_size + 1  # zipfile stops where the size says: one byte past
        inflated = 0
        xml: bool | None = None  # decided by the first byte that is no blank or byte-order mark
        with archive.open(probe) as stream:
            while chunk := stream.read(_INFLATE_CHUNK):
                inflated += len(chunk)
                if inflated > member.file_size:
                    raise DocumentError(
                        f"archive refusée : « {member.filename} » se décompresse au-delà de la taille qu'elle déclare"
                    )
                if xml is None and (start := chunk.lstrip(_BEFORE_XML)):
                    if start.startswith(_EBCDIC_XML):
                        raise DocumentError(f"archive refusée : « {member.filename} » est du XML en EBCDIC")
                    xml = start.startswith(b"<")
                if xml:
                    nodes += chunk.count(b"<") + chunk.count(b"=")
                    if nodes > options.office_max_xml_nodes:
                        raise DocumentError(
                            f"archive refusée : plus de {_number(options.office_max_xml_nodes)} éléments et "
                            "attributs XML (réglable par KB_OFFICE_MAX_XML_NODES)"
                        )


class Budget:
    """The reading of an office file, bounded as it goes (python-docx, python-pptx and odfdo
    take 15 to 50 µs a paragraph, cell or shape): the blocks read and the characters kept."""

    def __init__(self, options: ReaderOptions) -> None:
        self.options = options
        self.blocks_left = options.office_max_blocks
        self.characters_left = options.max_document_chars

    def read(self, blocks: int = 1) -> None:
        self.blocks_left -= blocks
        if self.blocks_left < 0:
            raise DocumentTooLarge(
                f"document trop long : plus de {_number(self.options.office_max_blocks)} paragraphes, "
                "cellules ou formes (réglable par KB_OFFICE_MAX_BLOCKS)"
            )

    def keep(self, text: str) -> str:
        self.characters_left -= len(text)
        if self.characters_left < 0:
            raise DocumentTooLarge(
                f"texte trop long une fois extrait (plus de {_number(self.options.max_document_chars)} "
                "caractères ; réglable par KB_MAX_DOCUMENT_CHARS)"
            )
        return text
