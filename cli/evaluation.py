"""`kb eval …`: retrieval and answer quality, and a report for the coordinator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from cli.french import SUBCOMMANDS
from evaluation.datasets import CNIL_PATH, PROJECT_ROOT, missing_dataset_message

if TYPE_CHECKING:
    from kb.search.retrieval import Mode

eval_app = typer.Typer(
    help="Mesurer la qualité de la recherche et des réponses.", no_args_is_help=True, subcommand_metavar=SUBCOMMANDS
)
out = Console()
err = Console(stderr=True)
QUESTIONS = PROJECT_ROOT / "evaluation" / "questions.jsonl"


_RETRIEVERS: dict[str, tuple[Mode, ...]] = {
    "all": ("bm25", "dense", "hybrid"),
    "bm25": ("bm25",),
    "dense": ("dense",),
    "hybrid": ("hybrid",),
}


def _modes(retriever: str) -> tuple[Mode, ...]:
    modes = _RETRIEVERS.get(retriever)
    if modes is None:
        err.print(f"Erreur : --retriever attend bm25, dense, hybrid ou all (reçu « {retriever} »).")
        raise typer.Exit(2)
    return modes


def _check(path: Path) -> None:
    if not path.exists():
        err.print(missing_dataset_message(path))
        raise typer.Exit(2)


@eval_app.command("retrieval")
def retrieval_command(
    dataset: Path = typer.Option(
        QUESTIONS, "--dataset", metavar="FICHIER", help="questions.jsonl du projet ou JSON de type SQuAD."
    ),
    retriever: str = typer.Option("all", "--retriever", metavar="MÉTHODE", help="bm25, dense, hybrid ou all."),
    as_json: bool = typer.Option(False, "--json", help="Écrire les chiffres en JSON."),
    index_dir: Path | None = typer.Option(
        None, "--index-dir", metavar="DOSSIER", help="Garder l'index ici pour le réutiliser."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, metavar="N", help="Seulement les N premières questions."),
    corpus: Path = typer.Option(
        PROJECT_ROOT / "corpus", "--corpus", metavar="DOSSIER", help="Dossier des documents (questions.jsonl)."
    ),
) -> None:
    """Recall@1/5/10, MRR@10 et nDCG@10 au niveau document, par type de question."""
    from evaluation.retrieval import run
    from kb.core.settings import Settings

    _check(dataset)
    figures = run(dataset, _modes(retriever), Settings(), corpus=corpus, index_dir=index_dir, limit=limit)
    if as_json:
        out.print_json(json.dumps(figures, ensure_ascii=False))
        return
    table = Table(title=f"{figures['dataset']} : {figures['questions']} questions, {figures['documents']} documents")
    for column in ("recherche", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "ms/question"):
        table.add_column(column)
    for mode in ("bm25", "dense", "hybrid"):
        if mode in figures:
            f = figures[mode]
            table.add_row(
                mode,
                *(f"{f[key]:.3f}" for key in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")),
                f"{f['ms_per_query']:.0f}",
            )
    out.print(table)
    if "abstention_unanswerable" in figures:
        out.print(
            f"Questions hors base : /ask s'abstient pour {figures['abstention_unanswerable']:.0%} d'entre elles "
            "(seuil de preuve actuel).",
            highlight=False,
        )
    for mode in ("bm25", "dense", "hybrid"):
        if mode in figures and figures[mode]["per_kind"]:
            kinds = ", ".join(f"{k} {v['mrr@10']:.3f}" for k, v in figures[mode]["per_kind"].items())
            out.print(f"MRR@10 par type ({mode}) : {kinds}", highlight=False)


@eval_app.command("answers")
def answers_command(
    dataset: Path = typer.Option(QUESTIONS, "--dataset", metavar="FICHIER", help="questions.jsonl (avec key_facts)."),
    as_json: bool = typer.Option(False, "--json", help="Écrire les chiffres en JSON."),
    index_dir: Path | None = typer.Option(
        None, "--index-dir", metavar="DOSSIER", help="Garder l'index ici pour le réutiliser."
    ),
) -> None:
    """Faits clés présents, validité des citations, réponses sans citation, abstention."""
    figures = _answers(dataset, index_dir)
    if as_json:
        out.print_json(json.dumps(figures, ensure_ascii=False))
        return
    for key, value in figures.items():
        if key in ("by_kind", "held_out_by_kind"):
            out.print(key, highlight=False)
            for kind, by_kind in value.items():
                shown = ", ".join(f"{k} {round(v, 3) if isinstance(v, float) else v}" for k, v in by_kind.items())
                out.print(f"  {kind:30} {shown}", highlight=False)
            continue
        out.print(f"{key:32} {value if not isinstance(value, float) else round(value, 3)}", highlight=False)


def _answers(dataset: Path, index_dir: Path | None) -> dict:
    from evaluation.answers import evaluate_answers
    from evaluation.datasets import load_dataset
    from evaluation.retrieval import dataset_index
    from kb.core.settings import Settings
    from services.knowledge_base import KnowledgeBase

    _check(dataset)
    settings = Settings()
    data = load_dataset(dataset, PROJECT_ROOT / "corpus")
    with dataset_index(data, settings, index_dir) as (index, _):
        kb = KnowledgeBase.create(settings, index)
        return evaluate_answers(kb.answerer, data.questions, settings.search_min_evidence, search=kb.search)


@eval_app.command("report")
def report_command(
    output: Path = typer.Option(Path("reports"), "--output", metavar="DOSSIER", help="Dossier du rapport."),
    cnil: Path = typer.Option(CNIL_PATH, "--cnil", metavar="FICHIER", help="Jeu externe (ignoré s'il est absent)."),
) -> None:
    """Écrire un rapport Markdown lisible (tableaux et courbes de rappel en PNG)."""
    from evaluation.answers import evaluate_answers
    from evaluation.datasets import load_dataset
    from evaluation.report import write_report
    from evaluation.retrieval import dataset_index, evaluate_retrieval
    from kb.core.settings import Settings
    from kb.search.retrieval import MODES
    from services.knowledge_base import KnowledgeBase

    settings = Settings()
    sections = []
    answers = None
    datasets = (
        (QUESTIONS, "Questions du projet (corpus d'exemple)", "projet"),
        (cnil, "FAQ de la CNIL (jeu externe)", "cnil"),
    )
    for path, name, slug in datasets:
        if not path.exists():
            err.print(missing_dataset_message(path))
            continue
        data = load_dataset(path, PROJECT_ROOT / "corpus")
        with dataset_index(data, settings) as (index, _):
            kb = KnowledgeBase.create(settings, index)
            figures, rankings = evaluate_retrieval(kb.retriever, data.questions, MODES)
            figures.update(
                questions=len(data.questions), documents=index.counts()[0], embedding_model=index.embedder.model_id
            )
            sections.append({"name": name, "slug": slug, "figures": figures, "rankings": rankings})
            if slug == "projet":
                answers = evaluate_answers(kb.answerer, data.questions, settings.search_min_evidence, search=kb.search)
    report = write_report(sections, answers, output)
    out.print(f"Rapport écrit : {report}")


@eval_app.command("rapprochements")
def rapprochements_command(
    as_json: bool = typer.Option(False, "--json", help="Écrire les chiffres en JSON."),
    index_dir: Path | None = typer.Option(
        None, "--index-dir", metavar="DOSSIER", help="Garder l'index ici pour le réutiliser."
    ),
) -> None:
    """Rapprochements proposés à la coordination : précision à 10 et à 20 sur les paires
    étiquetées (evaluation/rapprochements.jsonl), faux amis dans les 20 premières."""
    from evaluation.rapprochements import LABELS, run

    _check(LABELS)
    figures = run(index_dir)
    if as_json:
        out.print_json(json.dumps(figures, ensure_ascii=False))
        return
    out.print(f"{'précision à 10':32} {_ratio(figures['precision_at_10'])}", highlight=False)
    out.print(f"{'précision à 20':32} {_ratio(figures['precision_at_20'])}", highlight=False)
    out.print(f"{'faux amis dans les 20 premières':32} {len(figures['hard_negatives_in_top_20'])}", highlight=False)
    out.print(
        f"{'vraies paires proposées':32} {figures['true_pairs_proposed']} sur {figures['true_pairs_labelled']}",
        highlight=False,
    )
    for a, b in figures["unlabelled_in_top_20"]:
        out.print(f"à juger : {a} ~ {b}", highlight=False)


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
