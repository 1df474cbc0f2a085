from __future__ import annotations

from kb.index.lexical import FrenchAnalyzer
from kb.search.snippets import make_snippet, split_sentences


def test_sentences_drop_markdown_and_split_on_lines():
    text = "## Étapes\n\n- Recruter des **chauffeurs**. Former l'équipe.\n- Réserver la veille."
    assert split_sentences(text) == ["Étapes", "Recruter des chauffeurs.", "Former l'équipe.", "Réserver la veille."]


def test_snippet_window_and_highlight_offsets():
    analyzer = FrenchAnalyzer()
    text = ("Introduction sans intérêt. " * 20) + "Les chauffeurs bénévoles conduisent les habitants." + (" Fin." * 40)
    terms = set(analyzer.tokens("chauffeur bénévole"))
    snippet, highlights = make_snippet(text, terms, analyzer.term, width=120)
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert [snippet[s:e] for s, e in highlights] == ["chauffeurs", "bénévoles"]
    assert len(snippet) < 160


def test_the_cached_analysis_gives_the_snippets_of_the_uncached_one():
    from pathlib import Path

    from kb.search.snippets import Snippets

    analyzer = FrenchAnalyzer()
    calls: list[str] = []

    def term_of(word: str) -> str:
        calls.append(word)
        return analyzer.term(word)

    snippets = Snippets(term_of, size=64)
    corpus = Path(__file__).parents[3] / "corpus" / "experiences"
    texts = [path.read_text(encoding="utf-8") for path in sorted(corpus.glob("*.md"))[:6]]
    queries = ["chauffeurs bénévoles", "épicerie solidaire", "petite enfance crèche", "financement CAF", "zzz"]
    for text in texts:
        for query in queries:
            terms = set(analyzer.tokens(query))
            for width in (120, 260):
                assert snippets.make(text, terms, width) == make_snippet(text, terms, analyzer.term, width)
    analysed_once = len(calls)
    for text in texts:
        snippets.make(text, set(analyzer.tokens("habitants")))
    assert len(calls) == analysed_once  # each text's words went through the analyser once


def test_a_new_version_of_a_passage_is_a_new_analysis():
    from kb.search.snippets import Snippets

    analyzer = FrenchAnalyzer()
    snippets = Snippets(analyzer.term, size=2)
    terms = set(analyzer.tokens("covoiturage"))
    assert snippets.make("Le covoiturage du village.", terms)[1] == [[3, 14]]
    assert snippets.make("Un autre covoiturage.", terms)[1] == [[9, 20]]
    assert snippets.make("Le covoiturage du village.", terms)[1] == [[3, 14]]
    assert snippets.make("Aucun.", terms) == ("Aucun.", [])  # the oldest entries age out, results unchanged
