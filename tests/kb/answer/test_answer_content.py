"""What answers over sample-corpus documents quote: a method's steps for "comment…" questions,
only sentences that answer, one contact per structure made of its contact lines only."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from kb.answer.contacts import contact_conflicts
from kb.answer.quotable import is_question, unquotable

LEADER = "meth-monter-dossier-leader"
# the first sentence of each of the sheet's eight "Étapes", in order (emphasis marks dropped)
LEADER_STEPS = [
    "Premier contact avec l'équipe d'animation du GAL, avant toute dépense.",
    "Plan de financement : identifier le cofinanceur public national.",
    "Dépôt de la demande d'aide : formulaire, devis, délibération ou décision de l'instance de la structure, "
    "statuts, RIB, attestations de régularité, lettre d'engagement du cofinanceur.",
    "Présentation en comité de programmation : le porteur présente souvent son projet en cinq minutes.",
    "Instruction par l'équipe du GAL : caractère raisonnable des coûts (un à trois devis selon le montant), "
    "respect de la commande publique pour les porteurs publics, absence de double financement.",
    "Programmation : vote du comité, puis convention ou décision attributive.",
    "Réalisation : conserver toutes les pièces, respecter les obligations de publicité (logo de l'Union "
    "européenne, mention du soutien, affiche sur le lieu du projet).",
    "Demandes de paiement : un ou plusieurs acomptes puis le solde, sur factures acquittées et justificatifs.",
]
QUESTIONS = [
    "comment monter un dossier LEADER",
    "Combien coûte un dossier LEADER et quel délai avant le versement ?",
    "Comment financer durablement un poste d'animateur de tiers-lieu ?",
    "Comment aider les habitants à faire leurs démarches en ligne à la mairie ?",
    "Quels acteurs de la mobilité solidaire ont témoigné au groupe régional ?",
    "épicerie solidaire camion villages",
]


def source(answer: dict, doc_id: str) -> dict:
    return next(s for s in answer["sources"] if s["doc_id"] == doc_id)


def test_comment_monter_un_dossier_leader_quotes_the_sheets_steps_in_order(sample_kb):
    answer = sample_kb.ask("comment monter un dossier LEADER")
    assert answer["found"], answer["answer"]
    sheet = source(answer, LEADER)
    assert [step["text"] for step in sheet["steps"]] == LEADER_STEPS
    assert len(sheet["sentences"]) == 1  # one sentence of context, then the steps
    # each step is cited, and its citation holds it
    for step in sheet["steps"]:
        assert step["text"].split(" : ")[0] in answer["citations"][step["n"] - 1]["quote"].replace("**", "")
    listed = " ".join(f"{i}. {s['text']} [{s['n']}]" for i, s in enumerate(sheet["steps"], 1))
    assert "Étapes : " + listed in answer["answer"]
    # steps once: no other source lists steps
    assert [s["doc_id"] for s in answer["sources"] if s["steps"]] == [LEADER]


@pytest.mark.parametrize(
    "question", ["Combien coûte un dossier LEADER ?", "Quel cofinancement pour un dossier LEADER ?", "LEADER"]
)
def test_a_question_that_does_not_ask_how_gets_no_steps(sample_kb, question):
    answer = sample_kb.ask(question)
    assert answer["found"], answer["answer"]
    assert all(s["steps"] == [] for s in answer["sources"])
    assert "Étapes : " not in answer["answer"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_answers_quote_only_sentences_that_answer(sample_kb, question):
    answer = sample_kb.ask(question)
    assert answer["found"], answer["answer"]
    for block in answer["sources"]:
        for quoted in block["sentences"] + block["figures"] + block["steps"]:
            text = quoted["text"]
            assert not is_question(text), text
            assert unquotable(text, block["doc_type"]) is None, text
            assert text.count("«") == text.count("»"), text
            assert not text.startswith("Notes"), text
            assert not re.search(r"séance \d\.$", text), text


def test_the_question_of_a_qa_fiche_is_never_quoted(sample_kb):
    answer = sample_kb.ask("Comment financer durablement un poste d'animateur de tiers-lieu ?")
    quoted = [q["text"] for s in answer["sources"] for q in s["sentences"] + s["figures"] + s["steps"]]
    assert quoted
    assert not any("Notre association gère depuis deux ans" in text for text in quoted)
    assert not any("Tout repose sur des bénévoles" in text for text in quoted)  # inside the question's «…»
    assert not any(text.startswith("Fiche expérience «") for text in quoted)  # its "Ressources commentées"


def test_one_contact_per_structure_from_the_directory_with_contact_lines_only(sample_kb):
    answer = sample_kb.ask("comment monter un dossier LEADER")
    contacts = answer["contacts"] + [s["contact"] for s in answer["sources"] if s["contact"]]
    gal = [c for c in contacts if c["name"] == "GAL LEADER Sucs et Gorges"]
    assert gal
    # the sheet gives leader@pays-sucs-gorges.example, the directory contact@…: the directory wins
    assert {c["contact"] for c in gal} == {"Animateur du GAL LEADER — contact@gal-sucs-et-gorges.example"}
    assert {c["doc_id"] for c in gal} == {"annuaire-gal-sucs-et-gorges"}
    names = [c["name"] for c in answer["contacts"]]
    assert len(names) == len(set(names))
    for contact in contacts:
        assert "Voir aussi" not in contact["contact"], contact


def test_a_fiche_without_a_directory_entry_keeps_its_own_contact_lines(sample_kb):
    meta = sample_kb.index.get("fin-leader-gal-sucs-et-gorges").metadata
    text = sample_kb.index.document_text(meta.doc_id)
    reached = sample_kb.answerer._reach(replace(meta, porteur="Un porteur sans fiche annuaire"), text)
    assert reached["contact"] == (
        "Équipe d'animation du GAL LEADER Sucs et Gorges (animateur et gestionnaire LEADER), PETR du Pays des "
        "Sucs et Gorges, Montregard-les-Sucs — leader@pays-sucs-gorges.example"
    )  # not the "Voir aussi la fiche méthode …" paragraph after it
    assert reached["doc_id"] is None


def test_conflicting_contacts_are_listed_once_per_revision(sample_kb, monkeypatch):
    from kb.answer import contacts

    rows = contact_conflicts(sample_kb.index, "https://passerelles.example")
    gal = {row["doc_id"]: row for row in rows if row["structure"] == "GAL LEADER Sucs et Gorges"}
    assert set(gal) == {LEADER, "fin-leader-gal-sucs-et-gorges", "exp-cooperation-leader-alimentation-inclusion"}
    row = gal[LEADER]
    assert row["fiche"] == "équipe d'animation du GAL LEADER Sucs et Gorges — leader@pays-sucs-gorges.example"
    assert row["annuaire"] == "Animateur du GAL LEADER — contact@gal-sucs-et-gorges.example"
    assert row["differs"] == ["courriel"]
    assert row["url"] == "https://passerelles.example/fiches/meth-monter-dossier-leader"
    assert row["entry_url"] == "https://passerelles.example/fiches/annuaire-gal-sucs-et-gorges"
    panier = [row for row in rows if row["structure"] == "Épicerie solidaire Le Panier des Sucs"]
    assert [row["doc_id"] for row in panier] == ["exp-epicerie-solidaire-sucs"]
    # computed once per index revision
    calls = []
    monkeypatch.setattr(contacts, "_conflicts", lambda index: calls.append(index) or [])
    assert contact_conflicts(sample_kb.index, "https://passerelles.example") == rows
    assert calls == []
