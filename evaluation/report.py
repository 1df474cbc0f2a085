"""A report a non-developer can read: Markdown tables and a recall@k plot per retriever."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from evaluation.metrics import hit_at

KIND_LABELS = {
    "natural": "questions naturelles",
    "keyword": "mots-clés",
    "acronym": "sigles",
    "unaccented": "sans accents / fautes",
    "who": "qui fait quoi",
    "cross_sector": "croisement des secteurs",
}
RETRIEVER_LABELS = {"bm25": "mots-clés (BM25)", "dense": "sens (embeddings)", "hybrid": "hybride"}


def retrieval_table(figures: dict) -> list[str]:
    lines = [
        "| recherche | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 | ms/question |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in ("bm25", "dense", "hybrid"):
        if mode not in figures:
            continue
        f = figures[mode]
        lines.append(
            f"| {RETRIEVER_LABELS[mode]} | {f['recall@1']:.3f} | {f['recall@5']:.3f} | "
            f"{f['recall@10']:.3f} | {f['mrr@10']:.3f} | {f['ndcg@10']:.3f} | {f['ms_per_query']:.0f} |"
        )
    return lines


def per_kind_table(figures: dict) -> list[str]:
    modes = [m for m in ("bm25", "dense", "hybrid") if m in figures]
    kinds = sorted({k for m in modes for k in figures[m]["per_kind"]})
    if not kinds:
        return []
    header = "| type de question | " + " | ".join(f"MRR@10 {RETRIEVER_LABELS[m]}" for m in modes) + " |"
    lines = [header, "|---|" + "---|" * len(modes)]
    for kind in kinds:
        cells = [f"{figures[m]['per_kind'].get(kind, {}).get('mrr@10', 0):.3f}" for m in modes]
        n = figures[modes[0]]["per_kind"].get(kind, {}).get("n", 0)
        lines.append(f"| {KIND_LABELS.get(kind, kind)} ({n}) | " + " | ".join(cells) + " |")
    return lines


def recall_curves(rankings: dict[str, list[tuple[list[str], set[str]]]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = list(range(1, 11))
    figure, axis = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for mode, rows in rankings.items():
        rows = [(ranked, gold) for ranked, gold in rows if gold]
        values = [sum(hit_at(r, g, k) for r, g in rows) / max(1, len(rows)) for k in ks]
        axis.plot(ks, values, marker="o", label=RETRIEVER_LABELS.get(mode, mode))
    axis.set_xlabel("nombre de documents affichés (k)")
    axis.set_ylabel("part des questions avec un bon document")
    axis.set_title(title)
    axis.set_ylim(0, 1)
    axis.set_xticks(ks)
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def write_report(sections: list[dict], answers: dict | None, directory: Path) -> Path:
    """``sections``: one per dataset, with ``name``, ``figures`` and ``rankings``."""
    directory.mkdir(parents=True, exist_ok=True)
    today = dt.date.today().isoformat()
    lines = [
        f"# Qualité de la recherche — rapport du {today}",
        "",
        "Pour chaque jeu de questions, on cherche avec trois méthodes. R@1, R@5, R@10 : part des "
        "documents pertinents retrouvés parmi les 1, 5 ou 10 premiers (une question peut avoir "
        "plusieurs documents pertinents). MRR@10 : rang du premier bon document (1 = toujours "
        "premier). Les courbes montrent la part des questions qui ont au moins un bon document "
        "parmi les k premiers.",
        "",
    ]
    for section in sections:
        figures = section["figures"]
        plot = directory / f"rappel-{section['slug']}.png"
        recall_curves(section["rankings"], plot, section["name"])
        lines += [
            f"## {section['name']}",
            "",
            f"{figures['questions']} questions, {figures['documents']} documents, modèle "
            f"`{figures['embedding_model']}`.",
            "",
            *retrieval_table(figures),
            "",
            *per_kind_table(figures),
            "",
            f"![Rappel selon le nombre de documents affichés]({plot.name})",
            "",
        ]
    if answers:
        lines += [
            "## Réponses rédigées (/ask)",
            "",
            "| indicateur | valeur |",
            "|---|---|",
            f"| faits clés présents dans la réponse (au moins la moitié de leurs mots) | {_pct(answers['key_fact_coverage'])} |",
            f"| faits clés présents mot pour mot | {_pct(answers['key_fact_coverage_exact'])} |",
            f"| citations valides (la phrase est bien dans la source citée) | {_pct(answers['citation_validity'])} |",
            f"| phrases citées incomplètes | {_pct(answers['fragments'])} |",
            f"| réponses sans aucune citation | {_pct(answers['answers_without_citation'])} |",
            f"| questions couvertes par la base : réponse donnée (toutes / moitié de contrôle) | {_pct(answers['answer_rate_answerable'])} / {_pct(answers['held_out_answer_rate'])} |",
            f"| questions hors base : la réponse le dit (toutes / moitié de contrôle) | {_pct(answers['abstention_unanswerable'])} / {_pct(answers['held_out_abstention'])} |",
            f"| questions sans accents ni tirets : réponse donnée, rapportée à l'original | {_pct(answers['unaccented_answer_ratio'])} |",
            f"| « dans l'autre secteur » (questions transversales) : documents pertinents / questions où la liste n'est pas vide | {_pct(answers['other_sector_precision'])} / {_pct(answers['other_sector_shown'])} |",
            f"| recherche (/search), moitié de contrôle : questions hors base sans résultat / questions couvertes avec résultats | {_pct(answers.get('search_held_out_abstention'))} / {_pct(answers.get('search_held_out_listed'))} |",
            f"| seuil de preuve utilisé / seuil recalculé | {answers['threshold_in_use']} / {answers['calibrated_threshold']} |",
            "",
        ]
    if answers and answers.get("by_kind"):
        lines += ["| type de question | questions | réponse donnée | faits clés présents |", "|---|---|---|---|"]
        for kind, figures in answers["by_kind"].items():
            lines.append(
                f"| {kind} | {figures['questions']} | {_pct(figures['answered'])} | {_pct(figures['key_facts'])} |"
            )
        lines.append("")
    report = directory / "rapport-qualite.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"
