"""The duplicate calibration as a test, on the labelled pairs of evaluation/duplicates.

The signals of the 160 pairs with the default embedder are committed (signals.jsonl, written by
`python -m evaluation.calibrate_duplicates --write-signals`: the corpus ingest takes minutes);
the fast tests split them by original document (evaluation/duplicates_fit.py), check that the
rule fitted on the calibration half is the shipped one, and decide every pair of both halves
with it: the exact figures of docs/coordination.md. The slow test recomputes the hardest pairs
with the real model and checks the committed figures against them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaluation import duplicates_fit
from evaluation.calibrate_duplicates import PAIRS_DIR, load_pairs, new_document, read_signals
from evaluation.datasets import PROJECT_ROOT, Dataset
from evaluation.retrieval import dataset_index
from kb.core.settings import Settings
from kb.duplicates.finder import DuplicateFinder, DuplicateParams, percent

PAIRS = load_pairs()
SIGNALS = read_signals()
HALVES = duplicates_fit.halves(PAIRS)
CAL, HELD = duplicates_fit.CALIBRATION, duplicates_fit.HELD_OUT
EPICERIE = ("rewrites/exp-epicerie-solidaire-sucs-reecrit-2.md", "exp-epicerie-solidaire-sucs")
# the one rewrite the rule misses: most figures rounded or dropped (12 of 27 kept)
MISSED = ("rewrites/exp-ressourcerie-la-remise-brevenne-reecrit.md", "exp-ressourcerie-la-remise-brevenne")


def decide(settings: Settings) -> dict[tuple[str, str], dict | None]:
    finder = DuplicateFinder(None, DuplicateParams.from_settings(settings))
    return {key: finder.warning(signals) for key, signals in SIGNALS.items()}


def strong_pairs(settings: Settings) -> set[tuple[str, str]]:
    return {key for key, w in decide(settings).items() if w is not None and w["strong"]}


def figures(pairs, strong) -> tuple[int, int, int, int]:
    """(pairs, duplicates, flagged, flagged duplicates)"""
    flagged = [p for p in pairs if (p.new, p.existing) in strong]
    return len(pairs), sum(p.duplicate for p in pairs), len(flagged), sum(p.duplicate for p in flagged)


def test_the_committed_signals_are_those_of_the_labelled_pairs():
    assert sorted(SIGNALS) == sorted((p.new, p.existing) for p in PAIRS)
    assert len(PAIRS) == 160 and sum(p.duplicate for p in PAIRS) == 41
    rewrites = {p.new for p in PAIRS if p.new.endswith(".md")}
    assert len(rewrites) == 40 and all((PAIRS_DIR / name).exists() for name in rewrites)


def test_a_documents_rewrites_are_all_on_one_side():
    sides = duplicates_fit.split(PAIRS)
    by_original: dict[str, set[str]] = {}
    for pair, side in sides.items():
        by_original.setdefault(duplicates_fit.original_of(pair.new), set()).add(side)
    assert all(len(found) == 1 for found in by_original.values())
    assert [(len(HALVES[s]), sum(p.duplicate for p in HALVES[s])) for s in (CAL, HELD)] == [(89, 25), (71, 16)]


def test_the_shipped_thresholds_are_those_fitted_on_the_calibration_half():
    params = DuplicateParams.from_settings(Settings())
    assert duplicates_fit.fit(HALVES[CAL], SIGNALS, params) == (params.semantic, params.shared_figures) == (0.92, 0.5)


def test_held_out_precision_and_recall_before_and_after():
    # the figures of docs/coordination.md and evaluation/duplicates/README.md, exactly
    shipped = strong_pairs(Settings())
    former = strong_pairs(Settings(duplicate_semantic=0.92, duplicate_shared_figures=0.65))
    assert figures(HALVES[CAL], former) == (89, 25, 21, 21)
    assert figures(HALVES[CAL], shipped) == (89, 25, 24, 24)
    assert figures(HALVES[HELD], former) == (71, 16, 12, 12)  # P 1.00, R 0.75
    assert figures(HALVES[HELD], shipped) == (71, 16, 16, 16)  # P 1.00, R 1.00
    missed = [(p.new, p.existing) for p in PAIRS if p.duplicate and (p.new, p.existing) not in shipped]
    assert missed == [MISSED]
    assert decide(Settings())[MISSED]["strength"] == "proche"  # still shown, as information


def test_the_issues_rewrite_is_a_probable_rewrite_whatever_the_porteur_spelling():
    signals, warning = SIGNALS[EPICERIE], decide(Settings())[EPICERIE]
    assert signals.common_figures == 20 and round(signals.shared_figures, 2) == 0.54
    assert signals.semantic < 0.97 and signals.text < 0.3  # the oldest rule missed it, and so did 0.65
    assert EPICERIE not in strong_pairs(Settings(duplicate_shared_figures=0.65))
    assert (warning["strong"], warning["strength"]) == (True, "réécriture probable")
    assert warning["similarity"] == round(signals.semantic, 3)
    assert warning["explanation"] == (
        f"Même expérience, réécrite : {percent(signals.semantic)} de sens commun et 54\u00a0% de chiffres communs."
    )


def test_close_documents_are_information_in_french():
    warnings = decide(Settings())
    close = [w for key, w in warnings.items() if w is not None and not w["strong"]]
    assert close and all(w["strength"] == "proche" for w in close)
    assert all("duplicate" not in w["explanation"] and w["explanation"][0].isupper() for w in close)
    entry = warnings[("rewrites/exp-epicerie-solidaire-sucs-reecrit.md", "annuaire-panier-des-sucs")]
    assert entry["strength"] == "proche" and entry["explanation"].startswith("Contenu proche (")


def test_the_old_rule_would_have_missed_the_rewrites():
    # semantic alone at the former 0.97 threshold: the calibration's reason to combine signals
    old = [key for key, s in SIGNALS.items() if s.semantic >= 0.97 or s.text >= 0.3]
    duplicates = [(p.new, p.existing) for p in PAIRS if p.duplicate]
    assert len([key for key in duplicates if key in old]) < 4


# the lowest meaning in common of a duplicate (micro-crèche update), the fewest figures in
# common (LEADER update), a method's rewrite against the experience it was drawn from, the
# issue's rewrite and the rewrite the rule misses
HARD_PAIRS = [
    ("rewrites/exp-micro-creche-ptits-sabots-lizon-reecrit.md", "exp-micro-creche-ptits-sabots-lizon"),
    ("rewrites/fin-leader-gal-sucs-et-gorges-reecrit.md", "fin-leader-gal-sucs-et-gorges"),
    ("rewrites/meth-analyse-besoins-sociaux-ccas-cias-reecrit.md", "meth-analyse-besoins-sociaux-ccas-cias"),
    ("rewrites/meth-analyse-besoins-sociaux-ccas-cias-reecrit.md", "exp-abs-partagee-cias-haut-vernay"),
    EPICERIE,
    MISSED,
]


@pytest.mark.slow
def test_the_committed_figures_are_the_real_models(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for _, doc_id in HARD_PAIRS:
        for path in (PROJECT_ROOT / "corpus").glob(f"*/{doc_id}.*"):
            shutil.copy(path, corpus / path.name)
    settings = Settings(data_dir=tmp_path / "data")
    with dataset_index(Dataset("duplicates", corpus=corpus), settings) as (index, report):
        assert report.failed == []
        finder = DuplicateFinder(index, DuplicateParams.from_settings(settings))
        for new_name, doc_id in HARD_PAIRS:
            assert (PAIRS_DIR / new_name).exists()
            measured = finder.compare(new_document(index, settings, new_name), doc_id)
            committed = SIGNALS[(new_name, doc_id)]
            assert measured.semantic == pytest.approx(committed.semantic, abs=0.005), doc_id
            assert measured.text == pytest.approx(committed.text, abs=0.005), doc_id
            assert (measured.common_figures, measured.existing_figures, measured.new_figures) == (
                committed.common_figures,
                committed.existing_figures,
                committed.new_figures,
            ), doc_id
            assert finder.warning(measured)["strong"] == finder.warning(committed)["strong"]
