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
