"""The coordinator's theme vocabulary: the themes in use, near-duplicates to confirm, and the
merge of one theme into another (every document that has it rewritten through the catalogue's
write path, each write audited, and the merge itself)."""

from __future__ import annotations

from collections import Counter

from kb.core.errors import InvalidRequest, KBError, NotFoundError, Problem
from kb.core.text import collation_key
from kb.core.themes import ThemeLabels, near_duplicates
from kb.core.vocabulary import normalise_themes
from services.catalogue import Catalogue
from services.knowledge_base import KnowledgeBase

MERGED = "thèmes fusionnés"
NO_DOCUMENT = ""  # an audit entry that names no document (as for partner sites)
MAX_THEME_CHARS = 80


class ThemeVocabulary:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.labels = ThemeLabels.from_glossary(kb.index.settings.glossary_file)

    def _counts(self) -> Counter[str]:
        return Counter(theme for stored in self.kb.index.documents() for theme in stored.metadata.themes)

    def overview(self) -> dict:
        """Every theme in use with its label and document count (French order), and the pairs
        that look like one theme, for the coordinator to confirm or ignore."""
        counts = self._counts()
        return {
            "themes": [
                {"theme": theme, "label": self.labels.label(theme), "documents": counts[theme]}
                for theme in sorted(counts, key=collation_key)
            ],
            "suggestions": [
                {
                    "source": pair.source,
                    "target": pair.target,
                    "reason": pair.reason,
                    "source_documents": counts[pair.source],
                    "target_documents": counts[pair.target],
                }
                for pair in near_duplicates(counts)
            ],
        }

    def preview(self, source: str, target: str) -> dict:
        """The documents a merge would rewrite, with their themes before and after; nothing is
        written."""
        source, target = self._checked(source, target)
        rows = [
            {
                "doc_id": stored.metadata.doc_id,
                "title": stored.metadata.title,
                "before": list(stored.metadata.themes),
                "after": merged_themes(stored.metadata.themes, source, target),
            }
            for stored in self.kb.index.documents()
            if source in stored.metadata.themes
        ]
        rows.sort(key=lambda row: collation_key(str(row["title"])))
        return {"source": source, "target": target, "documents": rows, "merged": [], "failed": []}

    def merge(self, source: str, target: str, actor: str) -> dict:
        """Rewrite each document's themes, one write each through the catalogue (a failed write
        leaves that document as it was; merging again finishes the rest), then audit the merge."""
        plan = self.preview(source, target)
        catalogue = Catalogue(self.kb)
        note = {"fusion": {"de": plan["source"], "vers": plan["target"]}}
        for row in plan["documents"]:
            try:
                catalogue.edit(row["doc_id"], {"themes": row["after"]}, actor, note=note)
            except KBError as exc:
                plan["failed"].append({"doc_id": row["doc_id"], "detail": str(exc)})
            else:
                plan["merged"].append(row["doc_id"])
        self.kb.writer.audit.record(
            actor, MERGED, NO_DOCUMENT, de=plan["source"], vers=plan["target"], documents=plan["merged"]
        )
        return plan

    def _checked(self, source: str, target: str) -> tuple[str, str]:
        problems: list[Problem] = []
        names: list[str] = []
        for field, value in (("source", source), ("target", target)):
            themes = normalise_themes(value)
            if len(themes) != 1:
                problems.append(Problem(field, "un seul thème est attendu, sans virgule"))
            elif len(themes[0]) > MAX_THEME_CHARS:
                problems.append(Problem(field, f"au plus {MAX_THEME_CHARS} caractères"))
            names.append(themes[0] if themes else "")
        if not problems and names[0] == names[1]:
            problems.append(Problem("target", "le thème cible doit différer du thème fusionné"))
        if problems:
            raise InvalidRequest("Fusion de thèmes impossible.", problems)
        if names[0] not in self.kb.known_values()["themes"]:
            raise NotFoundError(f"Aucun document n'a le thème « {names[0]} ».")
        return names[0], names[1]


def merged_themes(themes: tuple[str, ...] | list[str], source: str, target: str) -> list[str]:
    """``themes`` with ``source`` replaced by ``target`` where it stood, each theme once."""
    replaced = [target if theme == source else theme for theme in themes]
    return list(dict.fromkeys(replaced))
