"""Calibrate the duplicate warning: `python -m evaluation.calibrate_duplicates [--index-dir DIR]`.

Indexes the corpus (or reuses ``--index-dir``), then, for every labelled pair of
``evaluation/duplicates/pairs.jsonl``, submits the pair's first member as a new document
against the base holding the other (a rewrite file is loaded, cut and embedded as the writer
does; a corpus document is read back from the index with ``exclude=`` itself) and prints the
precision, recall and F1 of each signal of ``kb/duplicates/finder.py`` at several thresholds, of the
combined rule as configured, and the finder's time per call.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TypedDict

from evaluation import duplicates_fit
from evaluation.datasets import PROJECT_ROOT, Dataset
from evaluation.retrieval import dataset_index
from kb.core.settings import Settings
from kb.duplicates.finder import DuplicateFinder, DuplicateParams, NewDocument, Signals
from kb.index.knowledge_index import KnowledgeIndex
from services.calibration_duplicates import new_document
from services.runtime import open_index

PAIRS_DIR = PROJECT_ROOT / "evaluation" / "duplicates"
# the signals of every labelled pair with the default embedder, written by --write-signals and
# read by tests/evaluation/test_duplicate_calibration.py (the corpus ingest takes minutes)
SIGNALS_FILE = PAIRS_DIR / "signals.jsonl"


@dataclass(frozen=True)
class Pair:
    new: str  # a rewrite file (relative to PAIRS_DIR) or a corpus doc_id
    existing: str
    duplicate: bool
    kind: str


@dataclass
class PairResult:
    pair: Pair
    signals: Signals
    strong: bool  # the existing document is among the finder's strong warnings
    shown: bool  # ... and among the `limit` warnings the API shows
    warned: bool  # among the warnings, strong or not


def load_pairs(path: Path = PAIRS_DIR / "pairs.jsonl") -> list[Pair]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Pair(r["a"], r["b"], r["duplicate"], r["kind"]) for r in rows]


def new_documents(index: KnowledgeIndex, settings: Settings, pairs: list[Pair]) -> dict[str, NewDocument]:
    return {name: new_document(index, settings, name) for name in sorted({p.new for p in pairs})}


def evaluate_pairs(
    index: KnowledgeIndex, settings: Settings, pairs: list[Pair], documents: dict[str, NewDocument]
) -> tuple[list[PairResult], float]:
    """Each pair's signals and decisions, and the finder's mean milliseconds per call."""
    params = DuplicateParams.from_settings(settings)
    finder = DuplicateFinder(index, params)
    unlimited = DuplicateFinder(index, replace(params, limit=1000))
    results, elapsed = [], 0.0
    for pair in pairs:
        new = documents[pair.new]
        exclude = None if pair.new.endswith(".md") else pair.new
        started = time.perf_counter()
        shown = finder.find(new.metadata, new.text, new.vectors, exclude=exclude)
        elapsed += time.perf_counter() - started
        every = unlimited.find(new.metadata, new.text, new.vectors, exclude=exclude)
        signals = next((s for s in unlimited.signals(new, exclude) if s.doc_id == pair.existing), None)
        signals = signals or unlimited.compare(new, pair.existing)
        if signals is None:
            raise LookupError(f"{pair.existing}: not in the corpus index")
        results.append(
            PairResult(
                pair,
                signals,
                strong=any(w["doc_id"] == pair.existing and w["strong"] for w in every),
                shown=any(w["doc_id"] == pair.existing and w["strong"] for w in shown),
                warned=any(w["doc_id"] == pair.existing for w in every),
            )
        )
    return results, 1000 * elapsed / max(1, len(pairs))


class FalseAlarms(TypedDict):
    submissions: int
    strong_false_alarms: list[tuple[str, str, str]]  # (submitted, doc_id warned of, explanation)
    weak_warnings_per_submission: float


def false_alarms(
    index: KnowledgeIndex, settings: Settings, pairs: list[Pair], documents: dict[str, NewDocument]
) -> FalseAlarms:
    """Strong warnings outside the labelled duplicates: every corpus document submitted against
    the others, and every rewrite against the corpus (any document but its original)."""
    finder = DuplicateFinder(index, replace(DuplicateParams.from_settings(settings), limit=1000))
    known = {(p.new, p.existing) for p in pairs if p.duplicate}
    known |= {(b, a) for a, b in known if not a.endswith(".md")}
    names = [d.metadata.doc_id for d in index.documents()] + sorted({p.new for p in pairs if p.new.endswith(".md")})
    alarms: list[tuple[str, str, str]] = []
    weak, calls = 0, 0
    for name in names:
        new = documents.get(name) or new_document(index, settings, name)
        exclude = None if name.endswith(".md") else name
        for warning in finder.find(new.metadata, new.text, new.vectors, exclude=exclude):
            if not warning["strong"]:
                weak += 1
            elif (name, warning["doc_id"]) not in known:
                alarms.append((name, warning["doc_id"], warning["explanation"]))
        calls += 1
    return {"submissions": calls, "strong_false_alarms": alarms, "weak_warnings_per_submission": weak / max(1, calls)}


def signals_record(result: PairResult) -> dict:
    floats = {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(result.signals).items()}
    return {"a": result.pair.new, "b": result.pair.existing, **floats}


def write_signals(results: list[PairResult], path: Path = SIGNALS_FILE) -> None:
    lines = [json.dumps(signals_record(r), ensure_ascii=False) for r in results]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_signals(path: Path = SIGNALS_FILE) -> dict[tuple[str, str], Signals]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            key = (row.pop("a"), row.pop("b"))
            found[key] = Signals(**row)
    return found


def scores(results: list[PairResult], flagged: Callable[[PairResult], bool]) -> dict[str, float]:
    true_positives = sum(1 for r in results if flagged(r) and r.pair.duplicate)
    flagged_count = sum(1 for r in results if flagged(r))
    duplicates = sum(1 for r in results if r.pair.duplicate)
    precision = true_positives / flagged_count if flagged_count else 1.0
    recall = true_positives / duplicates if duplicates else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "flagged": flagged_count}


def _at_least(signal: Callable[[Signals], float], threshold: float) -> Callable[[PairResult], bool]:
    """The rule: ``signal`` reaches ``threshold``."""
    return lambda r: signal(r.signals) >= threshold


def _figures_repeated(share: float) -> Callable[[PairResult], bool]:
    """The rule: at least ``share`` of the existing document's figures are in the new one."""
    return lambda r: r.signals.common_figures >= share * max(1, r.signals.existing_figures)


def _semantic_and_figures(semantic: float, figures: float) -> Callable[[PairResult], bool]:
    return lambda r: r.signals.semantic >= semantic and r.signals.shared_figures >= figures


def signal_rules(params: DuplicateParams) -> dict[str, Callable[[PairResult], bool]]:
    """Each signal alone at a few thresholds, and the combinations considered."""
    rules: dict[str, Callable[[PairResult], bool]] = {}
    for t in (0.05, 0.1, 0.3):
        rules[f"text jaccard >= {t}"] = _at_least(lambda s: s.text, t)
    rules["same title"] = lambda r: r.signals.same_title
    for t in (0.5, 0.75):
        rules[f"title jaccard >= {t}"] = _at_least(lambda s: s.title_similarity, t)
    for t in (0.93, 0.94, 0.95, 0.96, 0.97):
        rules[f"semantic (mean best cosine) >= {t}"] = _at_least(lambda s: s.semantic, t)
    for t in (0.95, 0.96, 0.97, 0.98):
        rules[f"document cosine (centres) >= {t}"] = _at_least(lambda s: s.centre, t)
    for t in (0.5, 0.7, 0.9):
        rules[f"nearest-passage share >= {t}"] = _at_least(lambda s: s.nearest_share, t)
    rules["porteur fuzzy (>= 0.9)"] = lambda r: r.signals.porteur >= params.porteur_match
    rules["porteur + territory fuzzy + type"] = lambda r: (
        r.signals.porteur >= params.porteur_match
        and r.signals.territory >= params.porteur_match
        and r.signals.same_type
    )
    for t in (0.5, 0.7, 0.9):
        rules[f"figures of the existing one repeated >= {t}"] = _figures_repeated(t)
    for t in (0.3, 0.5, 0.65, 0.8):
        rules[f"figures in common (Jaccard) >= {t}"] = _at_least(lambda s: s.shared_figures, t)
    for sem, fig in ((0.90, 0.65), (0.92, 0.5), (0.92, 0.65), (0.92, 0.8), (0.94, 0.65)):
        rules[f"semantic >= {sem} and figures >= {fig}"] = _semantic_and_figures(sem, fig)
    rules["combined rule (settings), anywhere"] = lambda r: r.strong
    rules["combined rule (settings), in the 5 shown"] = lambda r: r.shown
    return rules


def leave_one_out(results: list[PairResult], params: DuplicateParams) -> dict[str, float]:
    """Each pair decided by the semantic and figures thresholds that do best on the other pairs
    (the middle of the best region of a grid), other reasons as configured."""
    grid = [(sem / 100, fig / 100) for sem in range(85, 100) for fig in range(30, 100, 5)]

    def rule(sem: float, fig: float) -> Callable[[PairResult], bool]:
        def flagged(r: PairResult) -> bool:
            s = r.signals
            rewritten = s.semantic >= sem and s.shared_figures >= fig and s.common_figures >= params.min_figures
            return rewritten or s.text >= params.text_jaccard or s.same_title

        return flagged

    decided = {}
    for held in results:
        others = [r for r in results if r is not held]
        f1 = {point: scores(others, rule(*point))["f1"] for point in grid}
        best = sorted(point for point in grid if f1[point] == max(f1.values()))
        sem = sorted(p[0] for p in best)[len(best) // 2]
        fig = sorted(p[1] for p in best)[len(best) // 2]
        decided[id(held)] = rule(sem, fig)(held)
    return scores(results, lambda r: decided[id(r)])


def print_report(results: list[PairResult], ms_per_call: float, params: DuplicateParams) -> None:
    print(f"{'rule':48} {'P':>5} {'R':>5} {'F1':>5} {'flagged':>7}")
    for name, rule in signal_rules(params).items():
        score = scores(results, rule)
        print(f"{name:48} {score['precision']:5.2f} {score['recall']:5.2f} {score['f1']:5.2f} {score['flagged']:7d}")
    print(f"\nfinder: {ms_per_call:.1f} ms per call\n")
    print(
        f"{'dup':3} {'kind':24} {'sem':>5} {'cent':>5} {'near':>5} {'text':>5} {'titl':>5} "
        f"{'port':>4} {'terr':>4} {'fig':>12} strong  pair"
    )
    for r in sorted(results, key=lambda r: (not r.pair.duplicate, -r.signals.semantic)):
        s = r.signals
        print(
            f"{'yes' if r.pair.duplicate else 'no':3} {r.pair.kind:24} {s.semantic:5.3f} {s.centre:5.3f} "
            f"{s.nearest_share:5.2f} {s.text:5.3f} {s.title_similarity:5.2f} {s.porteur:4.2f} "
            f"{s.territory:4.2f} {s.common_figures:2d}/{s.existing_figures:2d}/{s.new_figures:<2d} {s.shared_figures:4.2f} "
            f"{'STRONG' if r.strong else ('warn' if r.warned else '-'):6}  {Path(r.pair.new).stem} -> {r.pair.existing}"
        )


def print_held_out(signals: dict[tuple[str, str], Signals], pairs: list[Pair], params: DuplicateParams) -> None:
    """The rule fitted on the calibration half, and both rules' figures on each half."""
    halves = duplicates_fit.halves(pairs)
    fitted = duplicates_fit.fit(halves[duplicates_fit.CALIBRATION], signals, params)
    print(f"\nfitted on the calibration half: semantic >= {fitted[0]}, figures in common >= {fitted[1]}")
    print(f"shipped (settings): semantic >= {params.semantic}, figures in common >= {params.shared_figures}")
    rules = {
        "former": duplicates_fit.FORMER,
        "fitted": fitted,
        "shipped": (params.semantic_floor, params.shared_figures),
    }
    for side, members in halves.items():
        for name, (semantic, figures) in rules.items():
            s = duplicates_fit.score(members, signals, duplicates_fit.rewritten_rule(semantic, figures, params))
            print(
                f"  {side:11} {name:7} {len(members):3} pairs, {s.duplicates:2} duplicates: {s.flagged:2} flagged, "
                f"{s.true_positives:2} right, P {s.precision:.2f} R {s.recall:.2f}"
            )


@contextmanager
def corpus_index(settings: Settings, index_dir: Path | None) -> Iterator[KnowledgeIndex]:
    """The corpus's index: an existing ``index_dir`` is reused as it is (the ingest takes
    minutes; delete the folder to ingest again), otherwise the corpus is ingested into it."""
    if index_dir is not None and (index_dir / "CURRENT").exists():
        index = open_index(settings.model_copy(update={"data_dir": index_dir, "chroma_url": None}))
        try:
            yield index
        finally:
            index.close()
        return
    dataset = Dataset(name="corpus", corpus=PROJECT_ROOT / "corpus")
    with dataset_index(dataset, settings, index_dir) as (index, _):
        yield index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--write-signals", action="store_true", help=f"write {SIGNALS_FILE.name}")
    args = parser.parse_args(argv)
    settings = Settings()
    with corpus_index(settings, args.index_dir) as index:
        pairs = load_pairs()
        documents = new_documents(index, settings, pairs)
        results, ms_per_call = evaluate_pairs(index, settings, pairs, documents)
        population = false_alarms(index, settings, pairs, documents)
    params = DuplicateParams.from_settings(settings)
    if args.write_signals:
        write_signals(results)
    print_report(results, ms_per_call, params)
    held_out = leave_one_out(results, params)
    print(
        f"\nleave-one-out (semantic and figures thresholds chosen without the pair): "
        f"P {held_out['precision']:.2f} R {held_out['recall']:.2f} F1 {held_out['f1']:.2f}"
    )
    print_held_out({(r.pair.new, r.pair.existing): r.signals for r in results}, pairs, params)
    alarms = population["strong_false_alarms"]
    print(
        f"\nwhole corpus and rewrites ({population['submissions']} submissions): "
        f"{len(alarms)} strong false alarms, "
        f"{population['weak_warnings_per_submission']:.1f} information warnings per submission"
    )
    for name, doc_id, explanation in alarms:
        print(f"  {Path(name).stem} -> {doc_id}: {explanation}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
