"""Replay the questions quoted in issue 28 ("answers at the edges") on the sample corpus and
print what each gets now, as a Markdown table: the /search list (its length, whether it is
confident, the spelling correction) and the /ask answer (found or not, its lead, its blocks).

    python -m evaluation.edge_replay [--index-dir DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evaluation.datasets import PROJECT_ROOT, Dataset
from evaluation.retrieval import dataset_index
from kb.core.settings import Settings
from services.knowledge_base import KnowledgeBase

QUESTIONS = (
    "tranport solidaire",
    "tranport",
    "covoitturage",
    "transprot solidaire",
    "tranport solidaire avec des chaufeurs benevolles",
    "donner une seconde vie aux objets tout en créant des emplois",
    "organiser la fête de la musique dans un village",
    "organiser un festival de musique au village",
    "comment monter un dossier LEADER",
    "créer une micro-crèche en zone rurale",
    "renouveler la CTG avec la CAF",
    "accompagner les habitants",
    "xqzw",
)


def replay(kb: KnowledgeBase, question: str) -> dict:
    listed = kb.search(question, k=10)
    answer = kb.ask(question)
    return {
        "question": question,
        "listed": len(listed["results"]),
        "confident": listed.get("confident"),
        "corrected": listed.get("corrected_query"),
        "found": answer["found"],
        "lead": answer["answer"].split("\n\n")[0],
        "blocks": [source["title"] for source in answer.get("sources", [])],
        "steps": sum(len(source.get("steps") or []) for source in answer.get("sources", [])),
        "nearest": [doc["title"] for doc in answer.get("nearest", [])],
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| question | /search | corrected | /ask | blocks (steps) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        search = f"{row['listed']} ({'confident' if row['confident'] else 'to check'})" if row["listed"] else "0"
        if row["found"]:
            ask = "answered"
            shown = "; ".join(row["blocks"]) + (f" ({row['steps']} steps)" if row["steps"] else "")
        else:
            ask = "not found" + (" (nearest listed)" if row["nearest"] else "")
            shown = "—"
        lines.append(f"| {row['question']} | {search} | {row['corrected'] or ''} | {ask} | {shown} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, help="keep the sample index here to reuse it")
    args = parser.parse_args()
    settings = Settings()
    dataset = Dataset(name="corpus", corpus=PROJECT_ROOT / "corpus")
    with dataset_index(dataset, settings, args.index_dir) as (index, _):
        kb = KnowledgeBase.create(settings, index)
        print(table([replay(kb, question) for question in QUESTIONS]))


if __name__ == "__main__":
    main()
