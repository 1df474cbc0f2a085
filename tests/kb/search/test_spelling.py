"""Spelling correction of queries against the sample corpus's own words: what is corrected, what
is never touched, and what the ``Query`` keeps of each (``Retriever.query``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kb.core.settings import Settings
from kb.index.lexical_index import LexicalIndex
from kb.search.glossary import Glossary
from kb.search.retrieval import FusionParams, Retriever

CORPUS = Path(__file__).parents[3] / "corpus"


class CorpusRows:
    """The registry's side the lexical index reads, over the sample corpus's Markdown files and
    the Markdown sources of its PDF, DOCX, PPTX and ODT files (one passage a document): enough
    to learn the words the base writes, without a model."""

    def __init__(self, folder: Path) -> None:
        self.rows = []
        for path in sorted([*folder.glob("*/*.md"), *folder.glob("_sources/*/*.md")]):
            text = path.read_text(encoding="utf-8")
            if text.startswith("---"):
                text = text.split("---", 2)[2]
            self.rows.append((f"{path.stem}::v1::0", path.stem, "", text, "fiche expérience", None))

    def revision(self) -> int:
        return 1

    def changed_since(self, revision: int):
        return set(), 0

    def lexical_rows(self, doc_ids=None):
        return iter(self.rows)


@pytest.fixture(scope="module")
def lexical(tmp_path_factory) -> LexicalIndex:
    rows = CorpusRows(CORPUS)
    assert len(rows.rows) > 90
    return LexicalIndex(rows, tmp_path_factory.mktemp("lexical"))


@pytest.fixture(scope="module")
def retriever(lexical, tmp_path_factory) -> Retriever:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    index = SimpleNamespace(lexical=lexical, settings=settings)
    return Retriever(index, Glossary.load(settings.glossary_file), FusionParams.from_settings(settings))


@pytest.mark.parametrize(
    "typed, corrected",
    [
        ("tranport solidaire", "transport solidaire"),
        ("tranport", "transport"),
        ("covoitturage", "covoiturage"),
        ("tranport solidaire avec des chaufeurs benevolles", "transport solidaire avec des chauffeurs bénévoles"),
        ("Tranport solidaire", "Transport solidaire"),  # the case typed is kept
        ("l'epicrie solidaire itinerrante", "l'épicerie solidaire itinérante"),  # as the base writes them
    ],
)
def test_misspelt_words_are_corrected_with_the_base_s_words(retriever, typed, corrected):
    query = retriever.query(typed)
    assert query.corrected == corrected
    assert query.text == typed  # as typed
    assert query.searched == corrected
    assert corrected in query.expanded and corrected in query.spelled  # both sides read the correction


@pytest.mark.parametrize(
    "typed",
    [
        "CTG",  # an acronym
        "la ctg de la caf",  # the glossary's forms, even in lowercase
        "le bilan 2024",  # a number
        "Familles Rurales du Lizonn",  # names: a capital inside the sentence
        "transport solidaire",  # words the base writes
        "chauffeurs bénévoles",
        "aide",  # a short word
        "les sentiers de randonnée",  # real words the base does not write: no typo-like neighbour
        "des bornes de recharge",
        "chauffeurs bénévoles reconnus",  # another form of a word the base writes
        "xqzw",
    ],
)
def test_acronyms_names_numbers_and_real_words_are_never_changed(retriever, typed):
    query = retriever.query(typed)
    assert query.corrected is None
    assert query.searched == typed


@pytest.mark.parametrize("lapins, lopins, chosen", [(2, 5, "lopin"), (5, 2, "lapin")])
def test_the_most_frequent_of_the_nearest_words_wins(tmp_path, lapins, lopins, chosen):
    rows = CorpusRows(tmp_path)  # no file: the rows below only
    rows.rows = [("doc::v1::0", "", "", " ".join(["lapin"] * lapins + ["lopin"] * lopins), "fiche expérience", None)]
    assert LexicalIndex(rows, tmp_path / "lexical").correct("un lupin") == f"un {chosen}"


def test_the_query_as_typed_when_correction_is_turned_off(retriever):
    query = retriever.query("tranport solidaire", spelling=False)
    assert query.corrected is None and query.searched == "tranport solidaire"
    assert "tranport" in query.spelled
    # the lexical side still reaches the base's nearest words
    assert retriever.index.lexical.analyzer.term("transport") in query.terms


def test_no_term_in_the_base(lexical, retriever):
    assert not lexical.knows_any(retriever.query("xqzw").terms)
    assert lexical.knows_any(retriever.query("tranport").terms)
