"""The French analyser of the lexical side, and what it learns from the base's texts.

The analyser lowercases, splits elisions (l', d', qu'…), folds accents and ligatures, drops
stop words and stems with the Snowball French stemmer, so that "Épiceries", "epicerie" and
"l'épicerie" meet. ``_Spellings`` learns how the base writes each word (accents, hyphens) for
``restore_accents`` and the typo matching of queries. The BM25 index over the registry's
chunks is ``kb/index/lexical_index.py``.
"""

from __future__ import annotations

import re

from kb.core.text import fold

_WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+", re.UNICODE)
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)


class FrenchAnalyzer:
    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_FRENCH

        self._stemmer = Stemmer.Stemmer("french")
        self._stopwords = {fold(w) for w in STOPWORDS_FRENCH} | {"a", "ete", "etre", "comment"}
        self._cache: dict[str, str] = {}

    def term(self, word: str) -> str:
        """The analysed term of one word ('' for a stop word), cached: snippets call it a lot."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        tokens = self.tokens(word)
        term = tokens[-1] if tokens else ""
        if len(self._cache) < 200_000:
            self._cache[word] = term  # an elided form ("l'épicerie") too, met in every snippet
        return term

    def tokens(self, text: str) -> list[str]:
        text = _ELISION.sub(" ", text.replace("œ", "oe").replace("Œ", "OE").lower())
        result: list[str] = []
        for word in _WORD.findall(text):
            term = self._cache.get(word)
            if term is None:
                folded = fold(word)
                if folded in self._stopwords or (len(folded) < 2 and not folded.isdigit()):
                    term = ""
                else:
                    # Folding before stemming: queries typed without accents stem alike.
                    term = self._stemmer.stemWord(folded)
                if len(self._cache) < 200_000:
                    self._cache[word] = term
            if term:
                result.append(term)
        return result


_PLAIN_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SPELLED = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?", re.UNICODE)


class _Spellings:
    """How the base writes each word: the accented or hyphenated form of a folded word, kept
    when it is at least nine times in ten the way the base writes it ("creche" -> "crèche";
    not "a" -> "à", both frequent). Counts of two sets of texts add up (``merge``)."""

    def __init__(self, counts: dict[str, dict[str, int]] | None = None) -> None:
        self._counts: dict[str, dict[str, int]] = counts if counts is not None else {}

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return self._counts

    def add(self, text: str) -> None:
        for match in _SPELLED.finditer(text):
            word = match.group().lower()
            forms = self._counts.setdefault(fold(word), {})
            forms[word] = forms.get(word, 0) + 1
            if "-" in word:  # the halves count as words of their own too
                for half in word.split("-"):
                    halves = self._counts.setdefault(fold(half), {})
                    halves[half] = halves.get(half, 0) + 1

    def merge(self, other: _Spellings) -> None:
        for folded, forms in other._counts.items():
            mine = self._counts.setdefault(folded, {})
            for form, count in forms.items():
                mine[form] = mine.get(form, 0) + count

    def words(self) -> list[str]:
        """Every folded word of at least TYPO_MIN_LETTERS letters the base writes."""
        return sorted(w for w in self._counts if _typo_candidate(w))

    def accented(self, folded_words=None) -> dict[str, str]:
        """The accented spellings, of every word or of ``folded_words`` only."""
        spelled: dict[str, str] = {}
        for folded in self._counts if folded_words is None else folded_words:
            forms = self._counts.get(folded)
            if not forms:
                continue
            form, count = max(forms.items(), key=lambda item: item[1])
            if len(folded) >= 3 and form != folded and count * 10 >= 9 * sum(forms.values()):
                spelled[folded] = form
        return spelled


def _typo_candidate(folded: str) -> bool:
    return len(folded) >= TYPO_MIN_LETTERS and " " not in folded


TYPO_MIN_LETTERS = 5  # shorter words are too easily one letter away from another word
TYPO_FAN_OUT = 2  # vocabulary terms a misspelt word may stand for


def typo_distance(word: str) -> int:
    """Edits allowed between a misspelt word and a word of the base."""
    return 1 if len(word) < 8 else 2


_TOKEN = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = ".!?…"
_BEFORE_WORD = " \t\r\n«»\"“”'’‘([{-–—"  # what may stand between a sentence's end and its first word


def correctable(text: str, match: re.Match[str]) -> bool:
    """Whether a word of a query (a match of ``query_words``) may be spelling-corrected: not a
    number or a word with digits ("2024", "covid19"), not a short word (fewer than
    TYPO_MIN_LETTERS letters), not an acronym (all capitals: "CTG"), not a name (a capital
    inside the sentence: "Lizon"; a capital at a sentence's start says nothing)."""
    word = match.group()
    if not word.isalpha() or len(fold(word)) < TYPO_MIN_LETTERS or word.isupper():
        return False
    if word[:1].isupper():
        before = text[: match.start()].rstrip(_BEFORE_WORD)
        return not before or before[-1] in _SENTENCE_END
    return True


_VOWELS = frozenset("aeiouy")
_ENDINGS = frozenset("sxzte")  # letters that inflect a French word at its end
_SOUND_ALIKE = frozenset(
    frozenset(pair) for pair in ("st", "cs", "ct", "ck", "cq", "kq", "sz", "gj", "mn")
)  # "convension", "négotié", "lison"


def typo_like(typed: str, word: str) -> bool:
    """Whether a folded word the base never writes reads as a typo of a folded word of the
    base one edit away (``rapidfuzz.distance.OSA``: an insertion, a deletion, a substitution
    or two adjacent letters swapped), rather than as another word: the first letter is the
    same, the edit is not a change of inflection at the end ("hivers"/"hiver",
    "reconnus"/"reconnu", "préfère"/"préférez": the lexical side stems them alike), and a
    substitution is between vowels or letters that sound alike ("analise", "convension"; not
    "soucis"/"soumis", "troupe"/"trouve"). Measured on evaluation/questions.jsonl: without
    these, a base of a hundred documents "corrected" real words it does not write ("sentiers"
    to "seniors", "fibre" to "libre", docs/search.md)."""
    if not typed or not word or typed[0] != word[0]:
        return False
    common = 0
    for a, b in zip(typed, word, strict=False):
        if a != b:
            break
        common += 1
    if len(word) == len(typed) + 1:  # a letter missing
        if word[:common] + word[common + 1 :] != typed:
            return False
        return not (common == len(typed) and word[-1] in _ENDINGS)
    if len(typed) == len(word) + 1:  # a letter too many
        if typed[:common] + typed[common + 1 :] != word:
            return False
        return not (common == len(word) and typed[-1] in _ENDINGS)
    if len(typed) != len(word):
        return False
    differing = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
    if len(differing) == 2:  # two adjacent letters swapped
        i, j = differing
        return j == i + 1 and typed[i] == word[j] and typed[j] == word[i]
    if len(differing) != 1:
        return False
    a, b = typed[differing[0]], word[differing[0]]
    if differing[0] == len(word) - 1 and a in _ENDINGS and b in _ENDINGS:
        return False
    return (a in _VOWELS and b in _VOWELS) or frozenset((a, b)) in _SOUND_ALIKE


def query_words(text: str):
    """The words of a query, with their positions (letters and digits, split at apostrophes
    and hyphens)."""
    return _TOKEN.finditer(text)


def restore_accents(text: str, accents: dict[str, str]) -> str:
    """ "creer une micro creche" -> "créer une micro-crèche" with the base's spellings
    (``_Spellings.accented``). Words typed with an accent are kept as typed."""
    if not accents:
        return text
    words = list(_PLAIN_WORD.finditer(text))
    out: list[str] = []
    position = 0
    skip = False
    for number, match in enumerate(words):
        if skip:
            skip = False
            continue
        word = match.group()
        following = words[number + 1] if number + 1 < len(words) else None
        if following is not None and text[match.end() : following.start()] in (" ", "-"):
            pair = accents.get(f"{word.lower()} {following.group().lower()}")
            if pair is not None:
                out.append(text[position : match.start()] + same_case(word, pair))
                position, skip = following.end(), True
                continue
        spelled = accents.get(word.lower()) if word.isascii() else None
        if spelled is not None:
            out.append(text[position : match.start()] + same_case(word, spelled))
            position = match.end()
    out.append(text[position:])
    return "".join(out)


def same_case(typed: str, spelled: str) -> str:
    return spelled[:1].upper() + spelled[1:] if typed[:1].isupper() else spelled
