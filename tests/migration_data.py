"""A base and side stores filled with a little of everything, and what they hold, for the
migration tests."""

from __future__ import annotations

from contextlib import closing

import numpy as np

from kb.core.models import Chunk, DocumentMetadata
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.records.keys import CONTRIBUTOR, COORDINATOR
from kb.records.proposals import PROPOSED, Proposal
from kb.records.questions import Period
from kb.records.rapprochements import INTRODUCED, NOT_RELEVANT, new_mark
from kb.storage.backend import open_backend
from tests.fakes import ToyEmbedder, vowel_vector

CHUNKING = {"chunker": "test", "max_chars": 1000}

EVERYTHING = Period("2000-01-01", "2100-01-01")

PROPOSAL = Proposal(
    doc_id="fiche-a",
    status=PROPOSED,
    replace=False,
    title="Une fiche",
    doc_type="fiche expérience",
    sector="développement local",
    territory="Cantal",
    porteur=None,
    date="2025",
    submitted_by="Aline",
    submitted_at="2025-01-01T00:00:00+00:00",
    updated_at="2025-01-02T00:00:00+00:00",
    comment="à compléter",
    data=b"# Une fiche\n\xc3\xa9t\xc3\xa9\x00\xff",
    suffix=".md",
    sidecar={"themes": ["commerce"]},
    duplicates=[{"doc_id": "x", "reasons": ["même titre"]}],
)


def fill_index(settings: Settings, count: int) -> None:
    """``count`` documents of two passages each, embedded by the toy model."""
    index = KnowledgeIndex(settings, ToyEmbedder(), CHUNKING)
    try:
        for n in range(count):
            texts = [f"aaa ooo {n}", f"iii uuu {n} eee"]
            metadata = DocumentMetadata(
                doc_id=f"doc-{n}", title=f"Document {n}", doc_type="expérience", sector="social"
            )
            chunks = [Chunk(metadata.doc_id, i, t, i * 20, i * 20 + len(t)) for i, t in enumerate(texts)]
            index.upsert(metadata, "v1", " ".join(texts), chunks, np.stack([vowel_vector(t) for t in texts]))
        index.persist_derived(wait=True)
    finally:
        index.close()


def fill_side_stores(settings: Settings) -> tuple[str, str]:
    """One row or more in every side store; the (kept key, revoked key) created."""
    with closing(open_backend(settings).key_store()) as keys:
        kept = keys.create("Aline", CONTRIBUTOR)
        revoked = keys.create("Bruno", COORDINATOR)
        keys.revoke("Bruno")
        keys.create("Bruno", COORDINATOR)  # a name revoked then given again
    with closing(open_backend(settings).partner_store()) as partners:
        partners.add("https://site.exemple.org", "Le site du réseau", "Bruno")
        partners.add("http://localhost:8080", "Essai local", "Bruno")
    with closing(open_backend(settings).proposal_store()) as proposals:
        proposals.put(PROPOSAL)
    with closing(open_backend(settings).question_log()) as log:
        log.record("question", "Qui conduit les habitants ?", {"sector": "social"}, True, ["doc-0", "doc-1"], "site")
        log.record("recherche", "mobilité", {}, False, [], "widget")
        log.record_feedback("Qui conduit les habitants ?", False, "trop vague", ["doc-0"], "api")
    with closing(open_backend(settings).audit_log()) as audit:
        audit.record("Bruno", "ajout", "doc-0", version="v1", fichier="fiche.md")
        audit.record("Bruno", "suppression", "doc-1")
        audit.record("Aline", "proposition", "fiche-a", détails={"titre": "Une fiche", "pages": [1, 2]})
    with closing(open_backend(settings).rapprochement_store()) as marks:
        marks.put(new_mark("doc-0", "doc-1", INTRODUCED, {"doc-0": "v1", "doc-1": "v1"}, "Bruno"))
        marks.put(new_mark("doc-1", "doc-2", NOT_RELEVANT, {"doc-1": "v1", "doc-2": "v1"}, "Aline"))
    return kept, revoked


def side_store_contents(settings: Settings) -> dict:
    """What every side store gives back through its public methods."""
    with (
        closing(open_backend(settings).key_store()) as keys,
        closing(open_backend(settings).partner_store()) as partners,
        closing(open_backend(settings).proposal_store()) as proposals,
        closing(open_backend(settings).question_log()) as log,
        closing(open_backend(settings).audit_log()) as audit,
        closing(open_backend(settings).rapprochement_store()) as marks,
    ):
        return {
            "keys": keys.list(),
            "partners": (partners.list(), partners.origins()),
            "proposals": (proposals.list(), proposals.count()),
            "questions": log.questions(EVERYTHING),
            "feedback": log.feedback(EVERYTHING),
            "audit": (audit.entries(), audit.last_entries()),
            "rapprochements": marks.list(),
        }
