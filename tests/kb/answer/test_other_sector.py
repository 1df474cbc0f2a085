"""'Dans l'autre secteur' told the asker's sector (kb/answer/other_sector.py): the rule on given
candidates, exactly, then on the sample documents."""

from __future__ import annotations

import pytest

from kb.answer.other_sector import Candidate, OtherSectorParams, choose
from kb.core.models import DocumentMetadata
from kb.core.vocabulary import ANNUAIRE, LOCAL_DEVELOPMENT, SOCIAL_ACTION
from kb.search.hits import DocumentHit

PARAMS = OtherSectorParams(candidates=3, floor=0.95, match=0.1, structure_bonus=0.06, sentence_weight=1.0, listed=2)


def candidate(
    doc_id: str, evidence: float, match: float = 0.2, lead: float = 0.0, doc_type: str = "fiche expérience"
) -> Candidate:
    meta = DocumentMetadata(doc_id=doc_id, title=doc_id, doc_type=doc_type, sector=LOCAL_DEVELOPMENT)
    return Candidate(DocumentHit(meta, 0.9), evidence, match, lead, doc_type == ANNUAIRE)


def ids(chosen: list[Candidate]) -> list[str]:
    return [c.hit.metadata.doc_id for c in chosen]


def test_strength_is_the_evidence_raised_for_a_structure_and_a_better_sentence():
    assert candidate("a", 0.94).strength(PARAMS) == pytest.approx(0.94)
    assert candidate("b", 0.94, doc_type=ANNUAIRE).strength(PARAMS) == pytest.approx(1.0)
    assert candidate("c", 0.94, lead=0.02).strength(PARAMS) == pytest.approx(0.96)
    assert candidate("d", 0.94, lead=-0.02).strength(PARAMS) == pytest.approx(0.92)


def test_a_candidate_is_listed_when_its_strength_reaches_the_floor_and_its_sentence_answers():
    chosen = choose(
        [
            candidate("strong", 0.96),
            candidate("weak", 0.949),
            candidate("no-sentence", 0.99, match=0.09),
        ],
        PARAMS,
    )
    assert ids(chosen) == ["strong"]
    # exactly at the floor and at the match: listed
    assert ids(choose([candidate("edge", 0.95, match=0.1)], PARAMS)) == ["edge"]


def test_a_structure_of_the_annuaire_passes_below_the_floor_by_its_bonus():
    entry = candidate("annuaire-x", 0.9, doc_type=ANNUAIRE)
    fiche = candidate("fiche-x", 0.9)
    assert ids(choose([fiche, entry], PARAMS)) == ["annuaire-x"]


def test_only_the_first_candidates_are_judged_and_at_most_listed_are_kept():
    strong = [candidate(f"d{i}", 1.0) for i in range(5)]
    assert ids(choose(strong, PARAMS)) == ["d0", "d1"]
    late = [candidate("w0", 0.5), candidate("w1", 0.5), candidate("w2", 0.5), candidate("late", 1.0)]
    assert choose(late, PARAMS) == []


def test_the_other_side_is_listed_even_when_the_askers_side_does_not_answer(sample_kb, monkeypatch):
    from dataclasses import replace

    question = "une épicerie solidaire qui achète des légumes déclassés aux maraîchers"
    told = sample_kb.ask(question, from_sector=LOCAL_DEVELOPMENT)
    listed = {doc["doc_id"]: doc["sector"] for doc in told["other_sector"]}
    assert "exp-epicerie-solidaire-sucs" in listed, told["other_sector"]
    assert set(listed.values()) == {SOCIAL_ACTION}
    # the same answer, the asker's side unable to answer: the other side is still judged
    answerer = sample_kb.answerer
    monkeypatch.setattr(answerer, "params", replace(answerer.params, min_score=9.0))
    unanswered = sample_kb.ask(question, from_sector=LOCAL_DEVELOPMENT)
    assert unanswered["found"] is False
    assert [d["doc_id"] for d in unanswered["other_sector"]] == list(listed)
    # not told: nothing is guessed for an answer that is not given
    assert sample_kb.ask(question)["other_sector"] == []


def test_a_question_of_no_known_word_lists_nothing_on_either_side(sample_kb):
    assert sample_kb.ask("xqzw vbnk", from_sector=SOCIAL_ACTION)["other_sector"] == []


def test_a_fiche_title_asked_of_the_other_sector_lists_its_bridges(sample_kb):
    # the fiche page's « Dans l'autre secteur » (services/site.py) asks the rule with its title
    answerer = sample_kb.answerer
    query = answerer.retriever.query("Une épicerie solidaire itinérante sur le plateau des Sucs")
    listed = {d["doc_id"]: d["sector"] for d in answerer.other.told(query, SOCIAL_ACTION)}
    # the GAL that programmed the épicerie's supply chain in LEADER, and how to apply
    assert {"annuaire-gal-sucs-et-gorges", "fin-leader-gal-sucs-et-gorges"} <= set(listed), listed
    assert set(listed.values()) == {LOCAL_DEVELOPMENT}
