"""The synonym-expansion harness (issue 30 §5): the thesaurus is read as MyThes writes it, a query
word finds its entry through its plural or its stem, and the issue's rule is applied per half."""

from __future__ import annotations

import json

from evaluation.synonym_expansion import (
    MARK,
    Thesaurus,
    _WeightedLexical,
    changes,
    load_mythes,
    neighbours_source,
    verdict,
)
from kb.index.lexical import FrenchAnalyzer

DAT = """UTF-8
hameau|1
(Nom)|village|bourg (vieilli)|hameau
roue|2
(Nom)|cercle|disque
(Nom)|supplice
nourrice|1
(Nom)|nounou
"""


def test_mythes_entries_keep_the_file_order_without_the_headword_or_notes(tmp_path):
    path = tmp_path / "thes.dat"
    path.write_text(DAT, encoding="utf-8")
    entries = load_mythes(path)
    assert entries == {
        "hameau": ["village", "bourg"],
        "roue": ["cercle", "disque", "supplice"],
        "nourrice": ["nounou"],
    }


def test_a_plural_or_another_form_finds_its_entry(tmp_path):
    path = tmp_path / "thes.dat"
    path.write_text(DAT, encoding="utf-8")
    thesaurus = Thesaurus(load_mythes(path), FrenchAnalyzer())
    assert thesaurus("Hameaux") == ["village", "bourg"]
    assert thesaurus("roues") == ["cercle", "disque", "supplice"]
    assert thesaurus("nourrices") == ["nounou"]
    assert thesaurus("inconnu") == []


def test_neighbours_file_is_read_by_lowercased_word(tmp_path):
    path = tmp_path / "neighbours.json"
    path.write_text(json.dumps({"nounous": ["assistantes", "crèche"]}), encoding="utf-8")
    source = neighbours_source(path)
    assert source("Nounous") == ["assistantes", "crèche"]
    assert source("autre") == []


class _Index:
    """What _WeightedLexical reads of an index: the lexical search and the hits of a ranking."""

    def __init__(self) -> None:
        self.lexical = self
        self.searched: list[str] = []

    def search(self, text: str, limit: int, scope=None) -> list[tuple[str, float]]:
        self.searched.append(text)
        return [("a", 2.0), ("b", 1.0)] if MARK not in text and "synonyme" not in text else [("b", 4.0)]

    def hits(self, ranked, limit):
        return ranked[:limit]

    def lexical_hits(self, query: str, limit: int, scope=None):
        return self.hits(self.search(query, limit, scope), limit)


def test_down_weighted_synonyms_add_a_share_of_their_own_bm25():
    index = _Index()
    weighted = _WeightedLexical(index, 0.25)  # type: ignore[arg-type]
    assert weighted.lexical_hits(f"question {MARK} synonyme", 10) == [("a", 2.0), ("b", 2.0)]
    assert weighted.lexical_hits("question", 10) == [("a", 2.0), ("b", 1.0)]  # nothing added: as shipped
    full = _WeightedLexical(index, 1.0)  # type: ignore[arg-type]
    full.lexical_hits(f"question {MARK} synonyme", 10)
    assert index.searched[-1] == "question   synonyme"  # one search of both: each term counts once


def _groups(paraphrase: float, natural: float) -> dict[str, list[float]]:
    return {
        **{
            f"{kind}@{split}": [1.0]
            for kind in ("keyword", "acronym", "unaccented", "who", "cross_sector", "typo")
            for split in ("calibration", "held_out")
        },
        "paraphrase@held_out": [paraphrase],
        "natural@held_out": [natural],
        "#q1": [paraphrase],
    }


def test_the_rule_wants_a_paraphrase_gain_and_no_other_kind_down_by_more_than_0_01():
    baseline = _groups(0.5, 0.9)
    assert verdict(_groups(0.6, 0.895), baseline, "held_out") == "KEEP"
    assert verdict(_groups(0.6, 0.88), baseline, "held_out") == "drops natur"
    assert verdict(_groups(0.5, 0.9), baseline, "held_out") == "no gain"
    assert changes(_groups(0.6, 0.9), baseline) == [("q1", 0.5, 0.6)]
