from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from ingest.chunking import ChunkingParams, chunk_document, embedding_text
from ingest.readers import parse_bytes
from kb.core.models import ParsedDocument, Section

SENTENCE = "Le centre social organise un atelier de cuisine avec les familles du bourg. "


def test_offsets_are_exact_for_every_chunk(fixtures_dir):
    parsed = parse_bytes(Path("f.md"), (fixtures_dir / "fiche.md").read_bytes())
    chunks = chunk_document("d", parsed, ChunkingParams(max_chars=200, overlap_chars=40, min_chars=50))
    assert len(chunks) > 1
    for chunk in chunks:
        assert parsed.text[chunk.start : chunk.end] == chunk.text


def test_small_sections_are_merged_and_keep_the_first_path():
    text = "# A\n\ncourt.\n\n## B\n\naussi court.\n"
    parsed = ParsedDocument(text, (Section(0, 13, ("A",)), Section(13, len(text), ("A", "B"))), {})
    chunks = chunk_document("d", parsed, ChunkingParams(max_chars=500, overlap_chars=0, min_chars=100))
    assert len(chunks) == 1
    assert chunks[0].section == ("A",)
    assert chunks[0].text == text.strip()


def test_long_section_is_cut_into_bounded_overlapping_windows_on_sentences():
    text = SENTENCE * 40
    parsed = ParsedDocument(text, (Section(0, len(text), ("Étapes",)),), {})
    params = ChunkingParams(max_chars=400, overlap_chars=100, min_chars=0)
    chunks = chunk_document("d", parsed, params)
    assert len(chunks) >= 8
    for first, second in pairwise(chunks):
        assert len(first.text) <= 400
        assert second.start < first.end, "consecutive windows overlap"
        assert first.text.endswith(".")
        assert second.text.startswith("Le centre")
    assert chunks[-1].end == len(text.rstrip())
    assert all(c.section == ("Étapes",) for c in chunks)


def test_text_without_any_space_is_still_bounded():
    text = "x" * 2500
    parsed = ParsedDocument(text, (Section(0, len(text)),), {})
    chunks = chunk_document("d", parsed, ChunkingParams(max_chars=1000, overlap_chars=100, min_chars=0))
    assert all(len(c.text) <= 1000 for c in chunks)
    assert chunks[-1].end == 2500


def test_pdf_pages_are_never_merged(fixtures_dir):
    parsed = parse_bytes(Path("p.pdf"), (fixtures_dir / "deux-pages.pdf").read_bytes())
    chunks = chunk_document("d", parsed, ChunkingParams(max_chars=1000, overlap_chars=0, min_chars=500))
    assert [c.page for c in chunks] == [1, 2]


@pytest.mark.parametrize(
    "section, expected",
    [((), "Titre\n\ncorps"), (("Partie", "Sous-partie"), "Titre\nPartie > Sous-partie\n\ncorps")],
)
def test_embedding_text_prepends_title_and_section_path(section, expected):
    from kb.core.models import Chunk

    assert embedding_text("Titre", Chunk("d", 0, "corps", 0, 5, section)) == expected
