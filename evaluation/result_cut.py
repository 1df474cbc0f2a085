"""How many documents a search lists, and which: `python -m evaluation.result_cut [--index-dir DIR]`.

Measures the lists of the site's page (``/recherche``), of ``GET /search`` (k=10) and of the
widget (k=6) on evaluation/questions.jsonl, before → after the listing of kb/search/listing.py:

- before: the query as typed (no spelling correction); nothing listed below the evidence floor
  ``KB_SEARCH_MIN_EVIDENCE``; the site listed every document within ``KB_RESULTS_MARGIN`` (0.08)
  of the best one among 50, ``/search`` and the widget their top k;
- after: the query corrected (``Retriever.query``), ``list_documents``: the cut ``ResultCut``
  (a share of the spread between the best score and the 20th), the nearest documents when the
  evidence is below the floor (``confident`` false), nothing only when no term of the query is
  in the base.

For the answerable questions: the recall of their relevant documents among those listed (mean
over the questions) and the number listed; for the unanswerable ones the number listed. By
split (the cut's share was chosen on ``calibration``; ``held_out`` is out of sample), sweeps of
the cut's share and of its bound below the floor on the same rankings, and what the spelling
correction does to each kind of question (how many are corrected; recall@5, recall@10 and MRR@10
of the top 10 as typed → corrected). Builds the sample corpus's index in a temporary
folder (about a minute), or reuses ``--index-dir`` as ``kb eval`` does (it ingests into it: pass a
copy of an index you want to keep as it is).
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.datasets import PROJECT_ROOT, Question, load_dataset
from evaluation.metrics import summarise
from evaluation.retrieval import dataset_index
from kb.answer.answerer import Answerer, AnswerParams
from kb.core.settings import Settings
from kb.search.evidence import Evidence
from kb.search.glossary import Glossary
from kb.search.hits import DocumentHit
from kb.search.listing import CUT, ResultCut, list_documents
from kb.search.retrieval import Retriever

QUESTIONS = PROJECT_ROOT / "evaluation" / "questions.jsonl"
SITE_BEFORE_DEPTH = 50  # the documents the site's page used to rank
SURFACES = (("site", 10), ("/search", 10), ("widget", 6))  # and the number of documents each asks for
SHARES = (0.4, 0.5, 0.6, 0.7, 0.8)
UNSURE_BOUNDS = (3, 4, 5, 10)


@dataclass
class Lists:
    """The documents each surface lists for one question, before and after."""

    question: Question
    before: dict[str, list[str]] = field(default_factory=dict)
    after: dict[str, list[str]] = field(default_factory=dict)
    confident: bool = True
    corrected: bool = False
    ranked: list[DocumentHit] = field(default_factory=list)  # the ranking the cut applies to
    top_typed: list[str] = field(default_factory=list)  # the top 10 of the query as typed
    top_corrected: list[str] = field(default_factory=list)  # and of the corrected query


def lists_of(question: Question, retriever: Retriever, evidence: Evidence, margin: float) -> Lists:
    lists = Lists(question)
    typed = retriever.query(question.question, spelling=False)  # what the search read before
    ranked = retriever.search(typed, k=SITE_BEFORE_DEPTH)
    if evidence.listed(typed, None, ranked):
        floor = ranked[0].score - margin
        lists.before["site"] = [h.metadata.doc_id for h in ranked if h.score >= floor]
    else:
        lists.before["site"] = []
    # /search ranked max(k, gap_rank) = 10 documents and listed its top k (the widget asks 6)
    top = retriever.search(typed, k=max(10, evidence.params.gap_rank))
    listed = evidence.listed(typed, None, top)
    lists.before["/search"] = [h.metadata.doc_id for h in top[:10]] if listed else []
    lists.top_typed = [h.metadata.doc_id for h in top[:10]]
    lists.before["widget"] = [h.metadata.doc_id for h in top[:6]] if listed else []
    query = retriever.query(question.question)
    listing = list_documents(evidence, query, 10)
    lists.corrected = query.corrected is not None
    corrected_top = retriever.search(query, k=10) if lists.corrected else top
    lists.top_corrected = [h.metadata.doc_id for h in corrected_top[:10]]
    lists.confident, lists.ranked = listing.confident, listing.ranked
    for surface, most in SURFACES:
        hits = listing.hits if most == 10 else CUT.apply(listing.ranked, most, listing.confident)
        lists.after[surface] = [h.metadata.doc_id for h in hits] if listing.hits else []
    return lists


def recall(listed: list[str], relevant: tuple[str, ...]) -> float:
    return len(set(listed) & set(relevant)) / len(relevant)


def summary(rows: list[tuple[list[str], Question]]) -> str:
    """Recall of the relevant documents (answerable questions) and the number listed."""
    if not rows:
        return "-"
    counts = [len(listed) for listed, _ in rows]
    answerable = [recall(listed, q.relevant) for listed, q in rows if q.relevant]
    shown = f"recall {statistics.mean(answerable):.3f}, " if answerable else ""
    empty = sum(1 for c in counts if c == 0)
    return (
        f"{shown}listed mean {statistics.mean(counts):.1f} median {statistics.median(counts):g} "
        f"max {max(counts)}, empty {empty}/{len(counts)}"
    )


def groups(all_lists: list[Lists]) -> list[tuple[str, list[Lists]]]:
    found = []
    for side, answerable in (("answerable", True), ("unanswerable", False)):
        for split in ("calibration", "held_out", None):
            chosen = [
                lists
                for lists in all_lists
                if bool(lists.question.relevant) == answerable and (split is None or lists.question.split == split)
            ]
            found.append((f"{side} {split or 'all'} ({len(chosen)})", chosen))
    return found


def report(all_lists: list[Lists]) -> None:
    print(f"cut: {CUT}")
    for surface, _ in SURFACES:
        print(f"\n{surface}: before -> after")
        for name, chosen in groups(all_lists):
            before = summary([(lists.before[surface], lists.question) for lists in chosen])
            after = summary([(lists.after[surface], lists.question) for lists in chosen])
            print(f"  {name:32} {before}\n  {'':32} -> {after}")
    unsure = [lists for lists in all_lists if lists.question.relevant and not lists.confident]
    print(
        f"\nanswerable questions below the evidence floor: {len(unsure)}; listed before 0 documents, "
        f"after: {summary([(lists.after['site'], lists.question) for lists in unsure])}"
    )
    report_spelling(all_lists)
    report_sweeps(all_lists, unsure)


def report_spelling(all_lists: list[Lists]) -> None:
    print("\nspelling correction: questions corrected, and the ranking's top 10 as typed -> corrected, by kind")
    for kind in sorted({lists.question.kind for lists in all_lists}):
        chosen = [lists for lists in all_lists if lists.question.kind == kind]
        line = f"  {kind:14} corrected {sum(lists.corrected for lists in chosen):3}/{len(chosen):3}"
        if chosen[0].question.relevant:
            typed = summarise((lists.top_typed, set(lists.question.relevant)) for lists in chosen)
            fixed = summarise((lists.top_corrected, set(lists.question.relevant)) for lists in chosen)
            line += "".join(f", {m} {typed[m]:.3f} -> {fixed[m]:.3f}" for m in ("recall@5", "recall@10", "mrr@10"))
        print(line)


def cut_summary(cut: ResultCut, chosen: list[Lists]) -> str:
    """What the site (k=10) would list for these questions with another cut."""
    rows = [
        (
            [h.metadata.doc_id for h in cut.apply(lists.ranked, 10, lists.confident)] if lists.after["site"] else [],
            lists.question,
        )
        for lists in chosen
    ]
    return summary(rows).split(", empty")[0]


def report_sweeps(all_lists: list[Lists], unsure: list[Lists]) -> None:
    print("\nsweep of the cut's share (site, k=10), answerable | unanswerable, by split:")
    splits = [chosen for name, chosen in groups(all_lists) if name.split()[1] != "all"]
    for share in SHARES:
        cut = ResultCut(share=share, reference_rank=CUT.reference_rank, least=CUT.least, most_unsure=CUT.most_unsure)
        print(f"  share {share}: " + " | ".join(cut_summary(cut, chosen) for chosen in splits))
    print("\nsweep of the bound of a list below the floor (site, k=10): answerable below the floor | unanswerable")
    unanswerable = [lists for lists in all_lists if not lists.question.relevant]
    for bound in UNSURE_BOUNDS:
        cut = ResultCut(share=CUT.share, reference_rank=CUT.reference_rank, least=CUT.least, most_unsure=bound)
        print(f"  at most {bound}: " + " | ".join(cut_summary(cut, chosen) for chosen in (unsure, unanswerable)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=QUESTIONS)
    parser.add_argument("--index-dir", type=Path, default=None, help="build the index here, or reuse it")
    args = parser.parse_args()
    settings = Settings()
    dataset = load_dataset(args.dataset, PROJECT_ROOT / "corpus")
    with dataset_index(dataset, settings, args.index_dir) as (index, _):
        retriever = Retriever(index, Glossary.load(settings.glossary_file))
        evidence = Answerer(retriever, AnswerParams.from_settings(settings)).evidence
        print(f"{len(dataset.questions)} questions, {index.counts()[0]} documents, {index.embedder.model_id}")
        report([lists_of(q, retriever, evidence, settings.results_margin) for q in dataset.questions])


if __name__ == "__main__":
    main()
