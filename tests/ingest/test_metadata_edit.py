"""A stored file with new metadata: Markdown front matter rewritten, other formats' sidecar."""

from __future__ import annotations

import pytest
import yaml

from ingest.file_store import FolderFileStore
from ingest.metadata_edit import edited_submission
from ingest.readers import split_front_matter
from kb.core.errors import InvalidRequest


def _original(path):
    """The file as the data directory's file store reads it back (with its sidecar)."""
    return FolderFileStore(path.parent).original(path.stem, str(path))


def test_markdown_front_matter_is_rewritten_with_canonical_keys_and_the_sidecar_folded_in(tmp_path):
    path = tmp_path / "fiche.md"
    path.write_text(
        "---\nid: fiche\nTitre: Ancien titre\nporteur: Asso\nfinanceur: LEADER\n---\n# Corps\n\nTexte.\n",
        encoding="utf-8",
    )
    (tmp_path / "fiche.md.meta.yaml").write_text("territoire: Drôme\n", encoding="utf-8")
    submission = edited_submission(_original(path), {"title": "Nouveau titre", "porteur": None})
    front, body = split_front_matter(submission.data.decode("utf-8"))
    assert front == {"id": "fiche", "title": "Nouveau titre", "financeur": "LEADER", "territory": "Drôme"}
    assert body == "# Corps\n\nTexte.\n" and submission.sidecar == {} and submission.suffix == ".md"


def test_other_formats_keep_their_bytes_and_get_a_new_sidecar(tmp_path):
    path = tmp_path / "cr.pdf"
    path.write_bytes(b"%PDF-1.4 fictif")
    (tmp_path / "cr.pdf.meta.yaml").write_text(yaml.safe_dump({"id": "cr", "themes": ["a"]}), encoding="utf-8")
    submission = edited_submission(_original(path), {"themes": ["b", "c"], "date": "2024"})
    assert submission.data == b"%PDF-1.4 fictif" and submission.suffix == ".pdf"
    assert submission.sidecar == {"id": "cr", "themes": ["b", "c"], "date": "2024"}


def test_a_summary_needs_the_section_of_a_fiche(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("# Note\n\n## En bref\n\nAncien.\n\n## Suites\n\nRien.\n", encoding="utf-8")
    body = edited_submission(_original(path), {"summary": "Nouveau résumé."}).data.decode("utf-8")
    assert "## En bref\n\nNouveau résumé.\n\n## Suites" in body and "Ancien" not in body
    path.write_text("# Note\n\nSans résumé.\n", encoding="utf-8")
    with pytest.raises(InvalidRequest) as refused:
        edited_submission(_original(path), {"summary": "Nouveau résumé."})
    assert [p.field for p in refused.value.problems] == ["summary"]
