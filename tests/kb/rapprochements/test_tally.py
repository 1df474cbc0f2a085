"""The rapprochement engine on a real registry and hand-made vectors (kb/rapprochements/): only
the two sectors meet, the score's bonuses, and a write scores its own pairs and no other."""

from __future__ import annotations

import numpy as np
import pytest

from kb.core.models import DocumentMetadata, StoredDocument
from kb.rapprochements.profiles import Profile, profile, same_territory, score_pair, territory_key
from kb.rapprochements.reason import quote, reason
from kb.rapprochements.tally import PairTally
from kb.storage.embedded.registry import Registry

AS, DL, TR = "action sociale", "développement local", "transversal"


def vec(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


class Base:
    """A registry and the vectors of its documents (what the index would read)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.vectors: dict[str, np.ndarray] = {}
        self.texts: dict[str, str] = {}
        self.reads: list[list[str]] = []

    def write(
        self, doc_id, sector, vectors, version="v1", territory=None, porteur=None, partners=(), publics=(), text=""
    ):
        extra = {"partners": list(partners)} if partners else {}
        metadata = DocumentMetadata(
            doc_id=doc_id,
            title=doc_id,
            sector=sector,
            territory=territory,
            porteur=porteur,
            extra=extra,
            publics=tuple(publics),
        )
        self.vectors[doc_id] = np.stack(vectors)
        self.texts[doc_id] = text
        self.registry.replace_document(metadata, version, text, [])

    def read_vectors(self, doc_ids):
        self.reads.append(sorted(doc_ids))
        return {d: self.vectors[d] for d in doc_ids if d in self.vectors}

    def tally(self, per_document=10, candidates=50) -> PairTally:
        return PairTally(self.read_vectors, self.texts.get, per_document, candidates)


@pytest.fixture
def base(tmp_path):
    registry = Registry(tmp_path / "registry.sqlite3")
    yield Base(registry)
    registry.close()


def pairs(tally, base):
    return {(p.a, p.b): p for p in tally.current(base.registry).pairs}


def test_only_social_action_meets_local_development(base):
    base.write("social", AS, [vec(1, 0, 0)])
    base.write("local", DL, [vec(1, 0.1, 0)])
    base.write("bridge", TR, [vec(1, 0, 0)])
    base.write("unknown", None, [vec(1, 0, 0)])
    base.write("local-2", DL, [vec(0, 1, 0)])
    found = pairs(base.tally(), base)
    assert set(found) == {("local", "social"), ("local-2", "social")}
    assert found[("local", "social")].score > found[("local-2", "social")].score


def test_a_write_scores_its_own_pairs_and_no_other(base):
    base.write("s1", AS, [vec(1, 0, 0)])
    base.write("s2", AS, [vec(0, 1, 0)])
    base.write("l1", DL, [vec(1, 0.2, 0)])
    tally = base.tally()
    first = pairs(tally, base)
    assert tally.scored == 3 and set(first) == {("l1", "s1"), ("l1", "s2")}
    base.reads.clear()
    base.write("l2", DL, [vec(0, 1, 0.1)])
    after = pairs(tally, base)
    assert tally.scored == 4, "only the document written was scored"
    assert base.reads == [["l2"], ["s1", "s2"]], "its vectors, then its candidates' (the other sector)"
    assert after[("l1", "s1")] == first[("l1", "s1")]
    assert ("l2", "s2") in after
    base.write("l2", DL, [vec(1, 0, 0)], version="v2")  # rewritten: its pairs are scored again
    rewritten = pairs(tally, base)
    assert rewritten[("l2", "s1")].versions == ("v2", "v1") and tally.scored == 5
    base.registry.delete_document("s1")
    assert all("s1" not in key for key in pairs(tally, base))


def test_each_document_keeps_its_best_pairs_only(base):
    base.write("s", AS, [vec(1, 0, 0)])
    base.write("t", AS, [vec(0, 1, 0)])
    base.write("l0", DL, [vec(1, 0.1, 0)])
    base.write("l1", DL, [vec(0.1, 1, 0)])
    assert set(pairs(base.tally(per_document=1), base)) == {("l0", "s"), ("l1", "t")}
    assert len(pairs(base.tally(per_document=2), base)) == 4


def test_naming_the_other_structure_the_same_territory_and_publics_add_to_the_meaning(base):
    base.write(
        "s",
        AS,
        [vec(1, 0, 0)],
        territory="Yssingeaux (43)",
        porteur="Épicerie du Plateau",
        publics=["familles", "habitants"],
    )
    base.write("near", DL, [vec(1, 0.3, 0)])
    base.write(
        "named",
        DL,
        [vec(1, 0.35, 0)],
        territory="Haute-Loire",
        porteur="Projet alimentaire",
        publics=["familles", "habitants"],
        text="avec l'épicerie du plateau",
    )
    found = pairs(base.tally(), base)
    named = found[("named", "s")]
    assert named.named and named.same_territory and named.publics == ("familles",), "habitants is too broad"
    assert named.score > found[("near", "s")].score


def test_a_structure_named_by_everyone_says_nothing(base):
    base.write("centre", AS, [vec(0, 0, 1)], porteur="Centre de ressources rurales")
    for n in range(12):
        base.write(f"l{n}", DL, [vec(1, n, 1)], partners=["Centre de ressources rurales"])
    assert not any(p.named for p in pairs(base.tally(), base).values())


def _profile(territory):
    stored = StoredDocument(DocumentMetadata(doc_id="x", title="x", sector=AS, territory=territory), "v1", 1, "")
    made = profile(stored, np.stack([vec(1, 0, 0)]), "", frozenset())
    assert made is not None
    return made


@pytest.mark.parametrize(
    "one, other, same",
    [
        ("CC du Haut-Vernay (Ardèche)", "CC du Haut-Vernay (Ardèche)", True),  # a fictional EPCI: the same text
        ("Haute-Loire", "Yssingeaux (43)", True),
        ("Pays des Sucs et Gorges (Haute-Loire)", "PETR du Pays des Sucs et Gorges (Haute-Loire)", True),
        ("Haute-Loire", "Cantal", False),
        ("Auvergne-Rhône-Alpes", "Auvergne-Rhône-Alpes", True),
        ("Auvergne-Rhône-Alpes", "Haute-Loire", True),
        ("CC du Haut-Vernay (Ardèche)", "CC Vercors-Roubion (Drôme)", False),
        (None, "Haute-Loire", False),
    ],
)
def test_same_territory(one, other, same):
    assert same_territory(_profile(one), _profile(other)) is same


def test_territory_keys_drop_the_qualifiers():
    assert territory_key("CC du Haut-Vernay (Ardèche)") == "cc du haut vernay"


def test_the_reason_says_what_they_share_and_quotes_both_sides():
    a = DocumentMetadata(doc_id="a", title="A", sector=AS, territory="Haute-Loire", porteur="Épicerie")
    b = DocumentMetadata(doc_id="b", title="B", sector=DL, territory="Yssingeaux (43)")
    one, two = _profile("Haute-Loire"), _profile("Yssingeaux (43)")
    pair = score_pair(
        Profile(**{**one.__dict__, "doc_id": "a", "publics": frozenset({"familles"})}),
        Profile(**{**two.__dict__, "doc_id": "b", "publics": frozenset({"familles"})}),
        np.stack([vec(1, 0, 0)]),
        np.stack([vec(1, 0, 0)]),
        frozenset(),
    )
    text = reason(
        pair,
        a,
        b,
        "# Titre\n\nL'épicerie achète des légumes aux maraîchers. Autre phrase sans rapport aucun ici.",
        "Les maraîchers vendent leurs légumes à l'épicerie solidaire.",
    )
    assert text == (
        "Même territoire (Haute-Loire) et mêmes publics (familles) : d'un côté (Épicerie) « L'épicerie achète des "
        "légumes aux maraîchers. », de l'autre (B) « Les maraîchers vendent leurs légumes à l'épicerie solidaire. »."
    )
    assert quote("mot " * 100, "mot").endswith("…") and len(quote("mot " * 100, "mot")) <= 180


def test_the_ranking_stays_ordered_and_without_repeats_across_writes(base):
    for n in range(6):
        base.write(f"s{n}", AS, [vec(1, n / 3, 0.1)])
        base.write(f"l{n}", DL, [vec(1, n / 4, 0.2), vec(0.2, 1, n / 5)])
    tally = base.tally(per_document=3)
    tally.current(base.registry)
    base.write("s2", AS, [vec(0, 1, 1)], version="v2")
    base.write("l9", DL, [vec(1, 0.1, 0)])
    base.registry.delete_document("l3")
    ranked = tally.current(base.registry).pairs
    keys = [(p.a, p.b) for p in ranked]
    assert len(keys) == len(set(keys)) and "l3" not in {k for pair in keys for k in pair}
    assert list(ranked) == sorted(ranked, key=lambda p: (-p.score, p.a, p.b))
    assert all(p.versions[1] == "v2" for p in ranked if p.b == "s2")
