"""The one French sentence that says what a pair shares: the same territory, the same publics,
one naming the other, and a short quote of each side, taken from their closest passages."""

from __future__ import annotations

import re

from kb.core.models import DocumentMetadata
from kb.core.sentences import document_sentences
from kb.core.text import fold
from kb.rapprochements.profiles import Pair

QUOTE_CHARS = 180
_WORD = re.compile(r"\w{5,}")


def quote(passage: str, other: str) -> str:
    """The sentence of ``passage`` that shares the most long words with ``other`` (not a
    heading), cut to ``QUOTE_CHARS``."""
    theirs = set(_WORD.findall(fold(other)))
    best, best_shared = "", -1
    for sentence in document_sentences(passage):
        if sentence.is_heading or len(sentence.text) < 25:
            continue
        shared = len(set(_WORD.findall(fold(sentence.text))) & theirs)
        if shared > best_shared:
            best, best_shared = sentence.text, shared
    best = " ".join((best or passage).split()).lstrip("-•* ")
    return best if len(best) <= QUOTE_CHARS else best[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def reason(pair: Pair, a: DocumentMetadata, b: DocumentMetadata, passage_a: str, passage_b: str) -> str:
    """« Même territoire (…), mêmes publics (…) et l'un nomme l'autre : d'un côté « … », de l'autre « … ». »"""
    shared: list[str] = []
    if pair.same_territory:
        shared.append(
            f"même territoire ({a.territory if len(a.territory or '') <= len(b.territory or '') else b.territory})"
        )
    if pair.publics:
        shared.append(f"mêmes publics ({', '.join(pair.publics)})")
    if pair.themes:
        shared.append(f"mêmes thèmes ({', '.join(pair.themes)})")
    if pair.named:
        shared.append("l'un nomme l'autre")
    if not shared:
        shared.append("sujet proche")
    head = shared[0][0].upper() + shared[0][1:]
    listed = head if len(shared) == 1 else ", ".join([head, *shared[1:-1]]) + " et " + shared[-1]
    side_a = a.porteur or a.title
    side_b = b.porteur or b.title
    return (
        f"{listed} : d'un côté ({side_a}) « {quote(passage_a, passage_b)} », "
        f"de l'autre ({side_b}) « {quote(passage_b, passage_a)} »."
    )
