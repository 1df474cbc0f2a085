"""The short answer read first: two or three sentences the blocks quote, each with its [n]."""

from __future__ import annotations

from kb.answer.summary import MAX_CHARS, first_block_first, round_robin, short_answer


def _block(*sentences: tuple[str, int], **more) -> dict:
    return {"title": "Titre", "url": "/fiches/x", "sentences": [{"text": t, "n": n} for t, n in sentences], **more}


def test_the_first_blocks_sentences_come_first_then_the_others_first_ones():
    sources = [
        _block(("Première phrase du premier document.", 1), ("Deuxième phrase du premier document.", 2)),
        _block(("Première phrase du deuxième document.", 3), ("Deuxième phrase du deuxième document.", 3)),
        _block(("Première phrase du troisième document.", 4)),
    ]
    assert short_answer(sources) == [
        {"text": "Première phrase du premier document.", "n": 1},
        {"text": "Deuxième phrase du premier document.", "n": 2},
        {"text": "Première phrase du deuxième document.", "n": 3},
    ]
    assert [n for _, n in first_block_first(sources)] == [1, 2, 3, 4, 3]
    assert [n for _, n in round_robin(sources)] == [1, 3, 4, 2, 3]


def test_three_sentences_at_most_and_a_third_only_when_the_whole_stays_short():
    long = "Une phrase longue " + "qui continue encore " * 16 + "et finit."
    sources = [_block((long, 1), (long.replace("longue", "longuette"), 2)), _block(("Courte et utile.", 3))]
    assert len(long) * 2 > MAX_CHARS
    chosen = short_answer(sources)
    assert [c["n"] for c in chosen] == [1, 2]  # two are always given, a third would make it long
    short = [_block(*[(f"Phrase numéro {i} du document.", i) for i in range(1, 6)])]
    assert [c["n"] for c in short_answer(short)] == [1, 2, 3]


def test_one_sentence_when_the_blocks_quote_one_and_none_without_blocks():
    assert short_answer([_block(("Seule phrase citée.", 1))]) == [{"text": "Seule phrase citée.", "n": 1}]
    assert short_answer([]) == []
    assert short_answer([_block()]) == []


def test_a_sentence_already_taken_is_not_repeated():
    sources = [
        _block(("Le chauffeur reçoit 0,35 € par kilomètre.", 1)),
        _block(("Le  chauffeur reçoit 0,35 € par kilomètre.", 4), ("Les trajets sont réservés la veille.", 5)),
    ]
    assert short_answer(sources) == [
        {"text": "Le chauffeur reçoit 0,35 € par kilomètre.", "n": 1},
        {"text": "Les trajets sont réservés la veille.", "n": 5},
    ]


def test_the_text_is_kept_as_quoted_markup_included():
    """The short answer copies the quoted text; escaping is the page's and the widget's job."""
    hostile = "La navette <img src=y onerror=alert(2)> part le samedi."
    assert short_answer([_block((hostile, 1))]) == [{"text": hostile, "n": 1}]
