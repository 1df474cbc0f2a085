"""The practitioner's questions: `kb search` and `kb ask`, with their filters."""

from __future__ import annotations

import json

import typer

from cli.common import fail, load_settings, out
from kb.core.errors import FiltersInvalid, KBError


def _open_kb():
    from services import runtime

    try:
        return runtime.open_knowledge_base(load_settings())
    except KBError as exc:
        fail(str(exc))


def _cli_filters(kb, doc_type, sector, theme, territory):
    try:
        return kb.parse_filters(doc_type, sector, theme, territory)
    except FiltersInvalid as exc:
        fail("; ".join(p.message for p in exc.problems), code=2)


def _run_query(text: str, what: str, filter_values: tuple, call):
    """Open the base, parse the filters, run one service call, close: search and ask alike."""
    if not text.strip():
        fail(f"{what} est vide.", code=2)
    kb = _open_kb()
    try:
        filters = _cli_filters(kb, *filter_values)
        try:
            return call(kb, filters)
        except KBError as exc:
            fail(str(exc))
    finally:
        kb.close()


TYPE_OPTION = typer.Option(
    None, "--type", metavar="TYPE", help="Type de document (fiche expérience, fiche méthode…) ; répétable."
)
SECTOR_OPTION = typer.Option(
    None, "--secteur", metavar="SECTEUR", help="Secteur : action sociale, développement local, transversal ; répétable."
)
THEME_OPTION = typer.Option(None, "--theme", metavar="THÈME", help="Thème ; répétable.")
TERRITORY_OPTION = typer.Option(None, "--territoire", metavar="TERRITOIRE", help="Territoire (extrait du nom).")


def search_command(
    query: str = typer.Argument(..., metavar="QUESTION", help="La question ou les mots recherchés."),
    k: int = typer.Option(5, "-k", min=1, max=50, metavar="NOMBRE", help="Nombre de documents (1 à 50)."),
    doc_type: list[str] | None = TYPE_OPTION,
    sector: list[str] | None = SECTOR_OPTION,
    theme: list[str] | None = THEME_OPTION,
    territory: str | None = TERRITORY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Chercher les documents qui répondent à une question, avec leurs meilleurs passages."""
    found = _run_query(
        query,
        "la recherche",
        (doc_type, sector, theme, territory),
        lambda kb, filters: kb.search(query, k, filters),
    )
    results = found["results"]
    if as_json:
        out.print_json(json.dumps(results, ensure_ascii=False))
        return
    if found["corrected_query"] and results:
        out.print(f"Résultats pour « {found['corrected_query']} »", highlight=False)
    if not results:
        out.print("Aucun résultat.")
    elif not found["confident"]:
        out.print("Aucun document ne répond sûrement. Les documents les plus proches, à vérifier :")
    for rank, doc in enumerate(results, start=1):
        out.print(
            f"[bold]{rank}. {doc['title']}[/bold] ({doc['doc_type']}, {doc['sector'] or 'secteur non précisé'})",
            highlight=False,
        )
        out.print(f"   {doc['doc_id']} — {doc['source']}", highlight=False)
        for passage in doc["passages"][:1]:
            out.print(f"   {passage['snippet']}", highlight=False)


def ask_command(
    question: str = typer.Argument(..., metavar="QUESTION", help="La question posée."),
    doc_type: list[str] | None = TYPE_OPTION,
    sector: list[str] | None = SECTOR_OPTION,
    theme: list[str] | None = THEME_OPTION,
    territory: str | None = TERRITORY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Poser une question : réponse rédigée avec les sources citées, contacts et autre secteur."""
    answer = _run_query(
        question,
        "la question",
        (doc_type, sector, theme, territory),
        lambda kb, filters: kb.ask(question, filters),
    )
    if as_json:
        out.print_json(json.dumps(answer, ensure_ascii=False))
        return
    out.print(answer["answer"], highlight=False)
    if answer["citations"]:
        out.print("\n[bold]Sources[/bold]")
        for citation in answer["citations"]:
            where = citation["section"] or (f"page {citation['page']}" if citation["page"] else "")
            out.print(f"  [{citation['n']}] {citation['title']} — {where} ({citation['doc_id']})", highlight=False)
    if answer["contacts"]:
        out.print("\n[bold]Qui contacter[/bold]")
        for contact in answer["contacts"]:
            out.print(f"  {contact['name']} : {contact['contact'] or contact['reason']}", highlight=False)
    if answer["other_sector"]:
        out.print("\n[bold]Dans l'autre secteur[/bold]")
        for doc in answer["other_sector"]:
            out.print(f"  {doc['title']} ({doc['sector']})", highlight=False)
