"""The short answer on top of a digest: two or three of its cited sentences.

Nothing is written: the short answer is made of sentences the blocks already quote, each with
its citation number, so that it reads first and is checked like the rest. It is built from the
blocks as the answer gives them (the ``sources`` of the /ask dict, each with its
``sentences``: ``[{"text", "n"}]``, blocks in the order of the ranking, sentences in the
document's order): the first block's sentences, then the other blocks' first sentences in block
order (then their second ones…), until three sentences are taken or the next one would take the
whole past ``MAX_CHARS`` (two are always taken when there are two). A sentence already taken
(same words) is not repeated.

Why the first block first: on the answered questions of evaluation/questions.jsonl that carry
key facts (95), the short answer holds 39.6 % of them (tolerant; 23.5 % exact) this way, against
29.6 % (16.7 %) with each block's first sentence by order of the blocks, for 2.5 sentences and
447 characters on average (``python -m evaluation.bench_answer_layout --choice``; the table is
in docs/answers.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kb.core.text import fold

MAX_SENTENCES = 3
MIN_SENTENCES = 2
# past two sentences, a short answer stays under this many characters
MAX_CHARS = 600


def short_answer(sources: list[dict], max_sentences: int = MAX_SENTENCES, max_chars: int = MAX_CHARS) -> list[dict]:
    """The short answer of a digest: ``[{"text", "n"}]``, two or three sentences (fewer when
    the blocks quote fewer; none without blocks)."""
    return pick(first_block_first(sources), max_sentences, max_chars)


def first_block_first(sources: list[dict]) -> list[tuple[str, int]]:
    """(text, n) of the blocks' sentences: the first block's, then the others' by round robin."""
    if not sources:
        return []
    return [*_sentences(sources[0]), *round_robin(sources[1:])]


def round_robin(sources: list[dict]) -> Iterator[tuple[str, int]]:
    """(text, n) of the blocks' sentences: each block's first, in block order, then each one's
    second, and so on."""
    lists = [_sentences(source) for source in sources]
    for rank in range(max((len(s) for s in lists), default=0)):
        for sentences in lists:
            if rank < len(sentences):
                yield sentences[rank]


def pick(
    candidates: Iterable[tuple[str, int]], max_sentences: int = MAX_SENTENCES, max_chars: int = MAX_CHARS
) -> list[dict]:
    """The first candidates, without repeats, up to ``max_sentences``; past ``MIN_SENTENCES``
    a sentence that would take the whole beyond ``max_chars`` ends the short answer."""
    chosen: list[dict] = []
    seen: set[str] = set()
    length = 0
    for text, n in candidates:
        key = fold(text)
        if not key or key in seen:
            continue
        if len(chosen) >= MIN_SENTENCES and length + len(text) > max_chars:
            break
        seen.add(key)
        chosen.append({"text": text, "n": n})
        length += len(text)
        if len(chosen) >= max_sentences:
            break
    return chosen


def _sentences(source: dict) -> list[tuple[str, int]]:
    return [(s["text"], s["n"]) for s in source.get("sentences") or [] if s.get("text")]
