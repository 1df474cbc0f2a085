"""Word neighbours (kb/search/word_neighbours.py): exact on a tiny vector table over a tiny base,
then through the Retriever on the mini corpus with the shipped data file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.core.settings import Settings
from kb.index.lexical_index import LexicalIndex
from kb.search.glossary import Glossary
from kb.search.retrieval import Retriever
from kb.search.word_neighbours import WIDTH, WordNeighbours, WordVectors
from services.runtime import open_index
from tests.apps import copy_index
from tests.fakes import ToyEmbedder

# cosines to row 0: row 1 0.857, row 3 0.479 (under the floor), row 5 0.997
ROWS = {
    "voiture": 0,
    "automobile": 0,  # the model shares one vector among close forms
    "véhicule": 1,
    "épicerie": 2,
    "bagnole": 3,
    "supérette": 4,
    "fourgon": 5,
}
VECTORS = np.array([[127, 0, 0], [100, 60, 0], [0, 127, 0], [60, 0, 110], [0, 100, 80], [127, 10, 0]], dtype=np.int8)


def tiny_vectors() -> WordVectors:
    words = sorted(ROWS)
    return WordVectors(
        VECTORS, np.array([w.encode() for w in words], dtype=f"S{WIDTH}"), np.array([ROWS[w] for w in words])
    )


class Rows:
    """The registry's side the lexical index reads: documents of one passage, added at will."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = dict(texts)
        self._revision, self.added_at = 1, {}

    def add(self, doc_id: str, text: str) -> None:
        self._revision += 1
        self.texts[doc_id] = text
        self.added_at[doc_id] = self._revision

    def revision(self) -> int:
        return self._revision

    def changed_since(self, revision: int):
        changed = {doc for doc, at in self.added_at.items() if at > revision}
        return changed, len(changed)

    def lexical_rows(self, doc_ids=None):
        for doc, text in self.texts.items():
            if doc_ids is None or doc in doc_ids:
                yield (f"{doc}::v1::0", doc, "", text, "fiche expérience", None)


BASE = {
    "mobilite": "La voiture du village, une voiture partagée. Un fourgon.",
    "commerce": "Une épicerie rouverte : l'épicerie du bourg. Un camion, le camion du marché.",
}


@pytest.fixture
def rows() -> Rows:
    return Rows(BASE)


@pytest.fixture
def neighbours(rows, tmp_path) -> WordNeighbours:
    return WordNeighbours(LexicalIndex(rows, tmp_path), vectors=tiny_vectors)


def test_lookup_finds_the_rows_of_known_words_only():
    vectors = tiny_vectors()
    assert vectors.lookup(["véhicule", "voiture", "inconnu", "a" * 30]).tolist() == [1, 0, -1, -1]
    assert vectors.lookup([]).tolist() == []


def test_the_nearest_written_words_above_the_floor_the_shared_vector_first(neighbours):
    # "voiture" shares the vector of "automobile"; "fourgon" is written once: not a neighbour;
    # "véhicule" and "épicerie" are not written at all yet
    assert neighbours.nearest("automobile") == ["voiture"]
    assert neighbours.nearest("supérette") == ["épicerie"]
    assert neighbours.nearest("bagnole") == []  # cosine 0.48 to "voiture": under the floor
    assert neighbours.nearest("inconnu") == []


def test_only_unwritten_words_get_a_neighbour_not_yet_in_the_query(neighbours):
    assert neighbours.expansion("une automobile") == ["voiture"]
    assert neighbours.expansion("une voiture") == []  # written
    assert neighbours.expansion("automobile ou voiture") == []  # its neighbour is in the query
    assert neighbours.expansion("AUTOMOBILE") == []  # an acronym
    assert neighbours.expansion("automobile", keep=lambda word: word == "automobile") == []  # the glossary's
    assert neighbours.expansion("automobile et supérette") == ["voiture", "épicerie"]


def test_the_base_follows_the_writes(rows, neighbours):
    before = neighbours.base()
    assert neighbours.base() is before  # unchanged spellings: the same matrix
    rows.add("garage", "Le véhicule électrique, un véhicule loué.")
    assert neighbours.nearest("automobile") == ["voiture", "véhicule"]
    assert neighbours.base() is not before


# -- through the Retriever, with the shipped data file ---------------------------------------


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, toy_mini_index):
    settings = copy_index(
        toy_mini_index, Settings(data_dir=tmp_path_factory.mktemp("neighbours") / "data", word_neighbours=True)
    )
    index = open_index(settings, embedder=ToyEmbedder())
    yield Retriever(index, Glossary.load(settings.glossary_file))
    index.close()


def test_an_unwritten_word_reaches_its_document_lexically(retriever):
    query = retriever.query("une supérette")
    assert query.neighbours == ("épicerie",)
    assert query.spelled == "une supérette"  # the dense side reads the question as typed
    assert query.lexical_text == "une supérette épicerie"
    assert "epicer" in "".join(query.highlighted_terms)  # snippets mark it
    # the evidence does not: the base still never writes the question's word
    assert query.terms == query.exact_terms == frozenset({"superet"})
    hits = retriever.search(query, k=3, mode="bm25")
    assert [hit.metadata.doc_id for hit in hits][:1] == ["exp-epicerie-village"]


def test_a_corrected_word_gets_no_neighbour_nor_a_query_searched_as_typed(retriever):
    corrected = retriever.query("une épicrie")
    assert corrected.corrected == "une épicerie" and corrected.neighbours == ()
    assert retriever.query("une supérette", spelling=False).neighbours == ()


def test_the_setting_turns_it_off(retriever, monkeypatch):
    monkeypatch.setattr(retriever.index.settings, "word_neighbours", False)
    query = retriever.query("une supérette")
    assert query.neighbours == () and query.lexical_text == query.expanded
    assert retriever.search(query, k=3, mode="bm25") == []


def test_the_data_file_ships_with_the_package():
    from kb.search.word_neighbours import DATA_FILE, word_vectors

    assert DATA_FILE.exists() and (Path(DATA_FILE).parent / "LICENSE.md").exists()
    assert word_vectors().lookup(["voiture", "épicerie"]).min() >= 0
