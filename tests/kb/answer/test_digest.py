"""Which sentences of a document the answer quotes (kb/answer/digest.py ``choose``)."""

from __future__ import annotations

from kb.answer.digest import choose
from kb.answer.units import Unit
from kb.core.models import Chunk

CHUNK = Chunk("code-travail-section", 0, "", 0, 100_000)


def unit(start: int, text: str = "Une phrase.") -> Unit:
    return Unit(text, start, start + len(text), False, CHUNK)


def starts(chosen) -> list[int]:
    return [u.start for u, _ in chosen]


def test_the_best_sentences_above_the_keep_ratio_are_quoted_best_first():
    scored = [(0.3, unit(200), ("c",)), (1.0, unit(0), ("a",)), (0.5, unit(100), ("b",))]
    assert starts(choose(scored, 3, 0.4)) == [0, 100]  # 0.3 < 0.4 × 1.0


def test_at_most_the_number_asked_and_no_overlap_nor_near_duplicate():
    scored = [
        (1.0, unit(0), ("a", "b")),
        (0.9, unit(5), ("z",)),  # overlaps the first
        (0.8, unit(100), ("a", "b")),  # says the same
        (0.7, unit(200), ("c",)),
        (0.6, unit(300), ("d",)),
    ]
    assert starts(choose(scored, 2, 0.4)) == [0, 200]


def test_a_long_documents_late_sentences_are_still_quoted():
    # the position penalty (0.0005 a sentence) takes a sentence 3,000 sentences in below zero:
    # the best was then under its own floor and nothing was chosen (/ask answered 500)
    scored = [
        (0.2 - 0.0005 * 3000, unit(90_000), ("nir",)),  # -1.3, the best
        (0.1 - 0.0005 * 3200, unit(95_000), ("employeur",)),  # -1.5: within the floor, -1.3 - 0.6 × 1.3 = -2.08
        (0.05 - 0.0005 * 5000, unit(99_000), ("caisse",)),  # -2.45: under it
    ]
    assert starts(choose(scored, 3, 0.4)) == [90_000, 95_000]
