"""How well ingestion infers what a document's metadata does not say (ingest/inference.py).

    python -m evaluation.sector_inference [--corpus corpus/] [--json]

- **Sector**, leave-one-out on the sample corpus: each document's own labels are hidden and the
  classifier counts every *other* labelled document of the corpus (``SectorModel.scores(…,
  exclude=doc_id)``), as when a file without front matter joins a base of labelled documents.
  Two settings: ``texte seul`` (the title and the text, nothing of the front matter or sidecar:
  a PDF or a minute as received) and ``sans secteur`` (only the sector hidden: the porteur of
  the metadata is read too). Also the two halves (trained on one, measured on the other) and
  the rules alone (``vocabulaire``: no classifier, a base without labelled documents).
- **Publics**: precision and recall of the text rule against the labels written by hand in
  ``evaluation/publics_labels.jsonl`` (never in the corpus), by split (``calibration``: the
  half the rule's thresholds were set on; ``held_out``: the other half).
- **Territory**: how often a place is inferred from the text alone, and whether it lies in the
  département(s) of the document's own territory.

Everything is printed in French; the figures go to docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from ingest.discover import discover
from ingest.inference import (
    FROM_HEADER,
    PORTEUR_BONUS,
    infer_publics,
    infer_sector,
    infer_territory,
)
from ingest.loading import load_document, read_sidecar
from ingest.sector_model import SectorModel
from kb.core.models import DocumentMetadata
from kb.core.territories import resolve
from kb.core.vocabulary import SECTORS

ROOT = Path(__file__).resolve().parent.parent
LABELS = Path(__file__).resolve().parent / "publics_labels.jsonl"
GOAL = 0.90


@dataclass(frozen=True)
class Sample:
    metadata: DocumentMetadata
    text: str


def load_corpus(corpus: Path) -> list[Sample]:
    """Every document of the corpus as ingestion reads it (scans OCRed), with its metadata."""
    samples = []
    for path in discover([corpus]).files:
        sidecar, sidecar_bytes = read_sidecar(path)
        loaded = load_document(path, path.read_bytes(), sidecar, sidecar_bytes)
        samples.append(Sample(loaded.metadata, loaded.parsed.text))
    return samples


def _model(samples: list[Sample]) -> SectorModel:
    model = SectorModel()
    for sample in samples:
        meta = sample.metadata
        if meta.sector in SECTORS:
            model.add(meta.doc_id, "eval", meta.sector, model.terms(meta.title, sample.text))
    return model


def _accuracy(pairs: list[tuple[str, str]]) -> dict:
    """Accuracy overall and by true sector, and the confusion (true -> predicted)."""
    total = len(pairs)
    right = sum(1 for truth, guess in pairs if truth == guess)
    by_sector = {}
    for sector in SECTORS:
        mine = [(t, g) for t, g in pairs if t == sector]
        by_sector[sector] = {"documents": len(mine), "justes": sum(1 for t, g in mine if t == g)}
    confusion = Counter(f"{truth} -> {guess}" for truth, guess in pairs)
    return {
        "documents": total,
        "justes": right,
        "exactitude": round(right / total, 4) if total else None,
        "par_secteur": by_sector,
        "confusion": {f"{t} -> {g}": confusion.get(f"{t} -> {g}", 0) for t in SECTORS for g in SECTORS},
    }


def sector_figures(samples: list[Sample], bonus: float = PORTEUR_BONUS) -> dict:
    import ingest.inference as inference

    labelled = [s for s in samples if s.metadata.sector in SECTORS]
    model = _model(labelled)
    saved = inference.PORTEUR_BONUS
    inference.PORTEUR_BONUS = bonus
    try:
        results: dict[str, dict] = {}
        for setting, use_porteur in (("texte seul", False), ("sans secteur", True)):
            pairs = []
            wrong = []
            for sample in labelled:
                meta = sample.metadata
                guess, _ = infer_sector(
                    sample.text, meta.title, meta.porteur if use_porteur else None, model, doc_id=meta.doc_id
                )
                pairs.append((meta.sector or "", guess))
                if guess != meta.sector:
                    wrong.append(f"{meta.doc_id} : {meta.sector} -> {guess}")
            results[setting] = _accuracy(pairs) | {"erreurs": wrong}
        halves = []
        for part in (0, 1):
            train = [s for n, s in enumerate(labelled) if n % 2 != part]
            half_model = _model(train)
            for sample in (s for n, s in enumerate(labelled) if n % 2 == part):
                guess, _ = infer_sector(sample.text, sample.metadata.title, None, half_model)
                halves.append((sample.metadata.sector or "", guess))
        results["texte seul, moitiés"] = _accuracy(halves)
        results["plus proche centroïde, texte seul"] = _accuracy(_centroid_pairs(labelled, model))
        rules = [(s.metadata.sector or "", infer_sector(s.text, s.metadata.title, None, None)[0]) for s in labelled]
        results["règles seules (vocabulaire)"] = _accuracy(rules)
        return results
    finally:
        inference.PORTEUR_BONUS = saved


def _centroid_pairs(labelled: list[Sample], model: SectorModel) -> list[tuple[str, str]]:
    """The alternative measured against naive Bayes: each document goes to the sector whose
    centroid (mean of the tf-idf vectors, presence of terms, of the other labelled documents)
    is nearest in cosine; leave-one-out like the classifier."""
    import math

    terms = [model.terms(s.metadata.title, s.text) for s in labelled]
    frequency = Counter(term for document in terms for term in document)
    pairs = []
    for held, sample in enumerate(labelled):
        count = len(labelled) - 1
        idf = {t: math.log((count + 1) / (n - (t in terms[held]) + 1)) + 1 for t, n in frequency.items()}
        centroids: dict[str, dict[str, float]] = {sector: defaultdict(float) for sector in SECTORS}
        for other, document in enumerate(terms):
            if other == held:
                continue
            norm = math.sqrt(sum(idf[t] ** 2 for t in document)) or 1.0
            for t in document:
                centroids[labelled[other].metadata.sector or ""][t] += idf[t] / norm
        query = {t: idf[t] for t in terms[held] if frequency[t] - 1 > 0}

        def cosine(centroid: dict[str, float], query: dict = query) -> float:
            norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
            return sum(v * centroid.get(t, 0.0) for t, v in query.items()) / norm

        guess = max(SECTORS, key=lambda sector: cosine(centroids[sector]))
        pairs.append((sample.metadata.sector or "", guess))
    return pairs


def read_labels(path: Path = LABELS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def publics_figures(samples: list[Sample], labels: list[dict]) -> dict:
    """Micro precision and recall of the inferred publics, by split, and per label (all rows)."""
    by_id = {s.metadata.doc_id: s for s in samples}
    figures: dict[str, dict] = {}
    per_label: dict[str, Counter] = {}
    for split in ("calibration", "held_out", "tous"):
        rows = [row for row in labels if split == "tous" or row["split"] == split]
        tp = fp = fn = 0
        for row in rows:
            sample = by_id.get(row["doc_id"])
            if sample is None:
                raise SystemExit(f"document absent du corpus : {row['doc_id']}")
            guessed, _ = infer_publics(sample.text)
            truth = set(row["publics"])
            tp += len(truth & set(guessed))
            fp += len(set(guessed) - truth)
            fn += len(truth - set(guessed))
            if split == "tous":
                for label in truth | set(guessed):
                    count = per_label.setdefault(label, Counter())
                    count["vp" if label in truth and label in guessed else "fp" if label in guessed else "fn"] += 1
        figures[split] = {
            "documents": len(rows),
            "précision": round(tp / (tp + fp), 3) if tp + fp else None,
            "rappel": round(tp / (tp + fn), 3) if tp + fn else None,
            "vp": tp,
            "fp": fp,
            "fn": fn,
        }
    figures["par_public"] = {label: dict(count) for label, count in sorted(per_label.items())}
    return figures


def territory_figures(samples: list[Sample]) -> dict:
    """From the text alone: how many documents get a place, and how many of those lie in the
    département(s) their own territory names."""
    inferred = inside = from_header = 0
    for sample in samples:
        found = infer_territory(sample.text)
        if found is None:
            continue
        inferred += 1
        from_header += found[1] == FROM_HEADER
        truth = {c for c in resolve(sample.metadata.territory).territory_codes if c.startswith("departement:")}
        guess = {c for c in resolve(found[0]).territory_codes if c.startswith("departement:")}
        inside += bool(guess) and guess <= truth
    return {
        "documents": len(samples),
        "déduits": inferred,
        "dont_ligne_territoire": from_header,
        "dans_le_département": inside,
    }


def _print_sector(name: str, figures: dict) -> None:
    rate = figures["exactitude"] or 0.0
    print(f"\n{name} : {figures['justes']}/{figures['documents']} = {rate:.1%} (objectif {GOAL:.0%})")
    for sector, row in figures["par_secteur"].items():
        share = row["justes"] / row["documents"] if row["documents"] else 0.0
        print(f"  {sector:<22} {row['justes']:>3}/{row['documents']:<3} {share:.1%}")
    print("  confusion (vrai -> déduit) :")
    for key, count in figures["confusion"].items():
        if count:
            print(f"    {key:<46} {count}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Exactitude du secteur, du territoire et des publics déduits.")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--json", action="store_true", help="tout en JSON")
    parser.add_argument("--bonus", type=float, nargs="*", help="comparer ces bonus du porteur (défaut : le réglage)")
    args = parser.parse_args(argv)
    samples = load_corpus(args.corpus)
    sectors = sector_figures(samples)
    publics = publics_figures(samples, read_labels())
    territory = territory_figures(samples)
    sweep = {str(b): sector_figures(samples, b)["texte seul"]["exactitude"] for b in args.bonus or []}
    if args.json:
        print(
            json.dumps(
                {"secteur": sectors, "publics": publics, "territoire": territory, "bonus": sweep},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(f"Secteur déduit, corpus {args.corpus} (étiquettes du document cachées), bonus du porteur {PORTEUR_BONUS}")
    for name, figures in sectors.items():
        _print_sector(name, figures)
    for setting in ("texte seul", "sans secteur"):
        print(f"\nErreurs ({setting}) :")
        for line in sectors[setting]["erreurs"]:
            print(f"  {line}")
    for bonus, rate in sweep.items():
        print(f"bonus {bonus} : texte seul {rate:.1%}")
    print("\nPublics déduits du texte (étiquettes : evaluation/publics_labels.jsonl)")
    for split in ("calibration", "held_out", "tous"):
        row = publics[split]
        print(
            f"  {split:<12} {row['documents']:>3} documents  précision {row['précision']:.3f}  "
            f"rappel {row['rappel']:.3f}  (vp {row['vp']}, fp {row['fp']}, fn {row['fn']})"
        )
    print("  par public (tous) :")
    for label, count in publics["par_public"].items():
        print(f"    {label:<26} vp {count.get('vp', 0):>2}  fp {count.get('fp', 0):>2}  fn {count.get('fn', 0):>2}")
    print(
        f"\nTerritoire déduit du texte seul : {territory['déduits']}/{territory['documents']} documents "
        f"(dont {territory['dont_ligne_territoire']} par une ligne « Territoire : »), "
        f"{territory['dans_le_département']} dans le département de leur territoire"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
