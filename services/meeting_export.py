"""The meeting's agenda (``services/meeting.py``) as a document to send: Markdown or ODT.

Everything in an agenda but its headings comes from documents or from what practitioners typed:
untrusted. Markdown escapes the characters that would make a link, an emphasis or HTML of it;
odfdo writes text nodes, never markup.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from odfdo import Document, Header, Link, List, ListItem, Paragraph

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
TITLE = "Réunion du groupe de travail : ordre du jour"
SECTIONS = (
    "Nouvelles fiches et fiches mises à jour",
    "Questions restées sans réponse",
    "Rapprochements à examiner",
    "Documents les plus consultés",
)
CHANGE_LABELS = {"nouveau": "nouveau", "mis à jour": "mis à jour", "indexé": "ajouté ou réindexé par import"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")


def french_date(value: str | dt.date) -> str:
    """« 7 décembre 2026 », « 1er mars 2027 » (a date or the day of an ISO date or time)."""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(value[:10])
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def _span(agenda: dict) -> str:
    since, until = french_date(agenda["since"]), french_date(agenda["until"])
    return f"le {since}" if since == until else f"du {since} au {until}"


def period_sentence(agenda: dict) -> str:
    span = _span(agenda)
    if agenda["basis"] == "dernière réunion":
        return f"Période : {span}, depuis la dernière réunion."
    if agenda["basis"] == "par défaut":
        return f"Période : {span} (aucune réunion enregistrée : les 30 derniers jours)."
    return f"Période : {span}."


def _lines(agenda: dict) -> list[tuple[str, object]]:
    """The agenda as a neutral outline both formats write: ("h1"|"h2"|"h3"|"p", text) and
    ("li", [(text, url | None), …]): a list item of plain and linked parts."""
    out: list[tuple[str, object]] = [("h1", TITLE), ("p", period_sentence(agenda))]
    documents = agenda["documents"]
    out.append(("h2", f"1. {SECTIONS[0]}"))
    if not documents["total"]:
        out.append(("p", "Aucun document ajouté ni modifié sur la période."))
    else:
        new = documents["new"]
        fresh = "aucun nouveau" if not new else ("1 nouveau" if new == 1 else f"{new} nouveaux")
        out.append(("p", f"{_count(documents['total'], 'document', 'documents')}, dont {fresh}."))
    for group in documents["sectors"]:
        if not group["documents"]:
            continue
        out.append(("h3", f"{group['sector'].capitalize()} ({len(group['documents'])})"))
        for row in group["documents"]:
            where = f", {row['territory']}" if row.get("territory") else ""
            change = CHANGE_LABELS.get(row["change"], row["change"])
            out.append(
                (
                    "li",
                    [
                        (row["title"], row["url"]),
                        (f" ({row['doc_type']}{where}) : {change}, le {french_date(row['at'])}", None),
                    ],
                )
            )
    if documents["removed"]:
        out.append(("h3", "Documents retirés"))
        for row in documents["removed"]:
            out.append(("li", [(f"{row['title']}, retiré le {french_date(row['at'])}", None)]))

    unanswered = agenda["unanswered"]
    out.append(("h2", f"2. {SECTIONS[1]}"))
    if not unanswered["log_enabled"]:
        out.append(("p", "Le journal des questions est désactivé (KB_QUERY_LOG=false)."))
    elif not unanswered["groups"]:
        out.append(("p", "Aucune question restée sans réponse sur la période."))
    else:
        asked = _count(unanswered["total"], "question sans réponse", "questions sans réponse")
        out.append(("p", f"{asked}, regroupées par sujet (le plus demandé d'abord)."))
        for group in unanswered["groups"]:
            others = [q for q in group["questions"] if q != group["representative"]]
            also = f" ; aussi : {', '.join('« ' + q + ' »' for q in others)}" if others else ""
            out.append(("li", [(f"« {group['representative']} » : {_times(group['count'])}{also}", None)]))
        if unanswered["more_groups"]:
            out.append(("p", f"Et {unanswered['more_groups']} autres sujets, posés moins souvent."))

    pairs = agenda["rapprochements"]
    out.append(("h2", f"3. {SECTIONS[2]}"))
    if not pairs["available"]:
        out.append(("p", "Les rapprochements ne sont pas encore disponibles."))
    elif not pairs["pairs"]:
        out.append(("p", "Aucun rapprochement à examiner."))
    else:
        shown = len(pairs["pairs"])
        more = f" (les {shown} premiers sur {pairs['total']})" if pairs["total"] > shown else ""
        out.append(("p", f"Des structures des deux secteurs qui travaillent sur le même sujet{more}."))
        for pair in pairs["pairs"]:
            a, b = pair["a"], pair["b"]
            parts: list[tuple[str, str | None]] = [(a["title"], a.get("url")), (f" ({_side(a)}) et ", None)]
            parts += [(b["title"], b.get("url")), (f" ({_side(b)})", None)]
            if pair.get("reason"):
                parts.append((f" : {pair['reason']}", None))
            out.append(("li", parts))

    consulted = agenda["most_consulted"]
    out.append(("h2", f"4. {SECTIONS[3]}"))
    out.append(("p", consulted["basis"]))
    if not consulted["documents"]:
        out.append(("p", "Aucun document proposé sur la période."))
    for row in consulted["documents"]:
        out.append(("li", [(row["title"], row["url"]), (f" ({row['sector']}) : {_times(row['count'])}", None)]))
    return out


def markdown(agenda: dict) -> str:
    text: list[str] = []
    previous = None
    for kind, value in _lines(agenda):
        if kind == "li":
            parts = "".join(f"[{_md(t)}](<{url}>)" if url else _md(t) for t, url in value)  # type: ignore[attr-defined]
            text.append(("" if previous == "li" else "\n") + f"- {parts}")
        else:
            prefix = {"h1": "# ", "h2": "## ", "h3": "### ", "p": ""}[kind]
            text.append(("\n" if text else "") + prefix + _md(str(value)))
        previous = kind
    return "\n".join(text) + "\n"


def odt(agenda: dict) -> bytes:
    document = Document("text")
    body = document.body
    body.clear()
    current: List | None = None
    for kind, value in _lines(agenda):
        if kind == "li":
            if current is None:
                current = List()
                body.append(current)
            paragraph = Paragraph()
            for text, url in value:  # type: ignore[attr-defined]
                paragraph.append(Link(url, text=text) if url else text)
            item = ListItem()
            item.append(paragraph)
            current.append(item)
            continue
        current = None
        if kind == "p":
            body.append(Paragraph(str(value)))
        else:
            level = int(kind[1])
            header = Header(level, str(value))
            header.style = f"Heading_20_{level}"  # odfdo 3.27's Header ignores its style argument
            body.append(header)
    document.meta.set_title(f"{TITLE}, {_span(agenda)}")
    document.meta.set_language("fr-FR")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def filename(agenda: dict, suffix: str) -> str:
    return f"reunion-{agenda['since']}-{agenda['until']}.{suffix}"


def _side(side: dict) -> str:
    return ", ".join(value for value in (side.get("sector"), side.get("territory")) if value)


def _times(count: int) -> str:
    return f"{count} fois"


def _count(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def _md(text: str) -> str:
    """Text as Markdown shows it and nothing more: no link, emphasis, HTML or line break of it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", text))
