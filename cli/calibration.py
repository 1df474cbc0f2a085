"""`kb calibrate`: the abstention thresholds fitted for the index's model (services/calibration.py)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from kb.core.errors import KBError

out = Console()
err = Console(stderr=True)

# how each value is named in the output
LABELS = {
    "answer_min_score": "seuil de réponse (KB_ANSWER_MIN_SCORE)",
    "answer_unknown_weight": "poids des mots inconnus (KB_ANSWER_UNKNOWN_WEIGHT)",
    "answer_gap_background": "score de fond (KB_ANSWER_GAP_BACKGROUND)",
    "search_min_evidence": "plancher de la recherche (KB_SEARCH_MIN_EVIDENCE)",
    "duplicate_semantic": "doublons : sens commun (KB_DUPLICATE_SEMANTIC)",
    "rerank_weight": "part du reranker (KB_RERANK_WEIGHT)",
}


def calibrate_command(
    questions: Path | None = typer.Option(
        None,
        "--questions",
        metavar="FICHIER",
        help="Questions étiquetées (JSONL : question, relevant, et en option kind et split ; voir "
        "docs/calibration.md). Par défaut : evaluation/questions.jsonl, sur le corpus d'exemple.",
    ),
) -> None:
    """Ajuster les seuils d'abstention au modèle (et au reranker) de l'index, et les y enregistrer."""
    from kb.core.settings import Settings
    from services import runtime
    from services.calibration import DEFAULT_QUESTIONS, calibrate

    path = questions or DEFAULT_QUESTIONS
    if not path.exists():
        err.print(f"Erreur : fichier de questions introuvable : {path}", highlight=False)
        raise typer.Exit(2)
    settings = Settings()
    try:
        kb = runtime.open_knowledge_base(settings)
    except KBError as exc:
        err.print(f"Erreur : {exc}", highlight=False)
        raise typer.Exit(1) from exc
    try:
        out.print(f"Calibration sur {path.name} (modèle {kb.index.embedder.model_id})…", highlight=False)
        record = calibrate(kb, path)
    except KBError as exc:
        err.print(f"Erreur : {exc}", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        kb.close()
    print_record(record, settings)


def print_record(record: dict, settings) -> None:
    counts = record["counts"]
    cal, held = counts["calibration"], counts["held_out"]
    out.print(
        f"Questions : {cal['answerable']} avec réponse et {cal['unanswerable']} hors base pour ajuster, "
        f"{held['answerable']} et {held['unanswerable']} mises de côté pour mesurer.",
        highlight=False,
    )
    for name, value in record["values"].items():
        overridden = " (un réglage KB_ prime sur cette valeur)" if name in settings.model_fields_set else ""
        out.print(f"  {LABELS.get(name, name):55} {value}{overridden}", highlight=False)
    figures = record["held_out"]
    out.print("Sur les questions mises de côté, seuils globaux → calibrés :", highlight=False)
    out.print(
        f"  abstention sur les questions hors base   {_pct(figures['global']['abstention'])} → "
        f"{_pct(figures['calibrated']['abstention'])}",
        highlight=False,
    )
    out.print(
        f"  questions avec réponse répondues         {_pct(figures['global']['answered'])} → "
        f"{_pct(figures['calibrated']['answered'])}",
        highlight=False,
    )
    duplicates = record.get("duplicates")
    if duplicates:
        before, after = duplicates["held_out"]["global"], duplicates["held_out"]["calibrated"]
        out.print(
            f"  doublons (paires étiquetées)              F1 {before['f1']:.2f} → {after['f1']:.2f}",
            highlight=False,
        )
    else:
        out.print(
            "Doublons : pas de paires étiquetées pour cette base (evaluation/duplicates), "
            "le seuil de sens commun reste sans calibration.",
            highlight=False,
        )
    out.print(
        f"Calibration enregistrée dans l'index ({record['date']}). Un serveur déjà lancé la prendra "
        "à son prochain démarrage.",
        highlight=False,
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}".replace("%", " %")
