"""The rapprochements' records: what the coordinator decided about a pair of documents, shared
by both backends (no I/O).

A pair is named by its two document ids in byte order (``pair_id``: ``a~b``; ``~`` is never in a
document id). A mark keeps the two documents' versions as they were when it was set: once either
document changes, the mark no longer applies and the pair is proposed again (``applies``).
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.core.clock import timestamp
from kb.core.errors import InvalidRequest, NotFoundError, Problem

TO_REVIEW = "à examiner"  # no mark, or a mark that no longer applies
INTRODUCED = "mis en relation"
ALREADY_LINKED = "déjà en lien"
NOT_RELEVANT = "non pertinent"
MARKS = (INTRODUCED, ALREADY_LINKED, NOT_RELEVANT)
STATUSES = (TO_REVIEW, *MARKS)

SEPARATOR = "~"
FIELDS = "doc_a, doc_b, status, version_a, version_b, marked_by, marked_at"


@dataclass(frozen=True)
class PairMark:
    doc_a: str
    doc_b: str
    status: str
    version_a: str
    version_b: str
    marked_by: str
    marked_at: str

    @property
    def pair_id(self) -> str:
        return pair_id(self.doc_a, self.doc_b)

    def applies(self, version_a: str | None, version_b: str | None) -> bool:
        """Whether the mark still holds for the documents' current versions."""
        return (self.version_a, self.version_b) == (version_a, version_b)

    def row(self) -> tuple[str, ...]:
        return (self.doc_a, self.doc_b, self.status, self.version_a, self.version_b, self.marked_by, self.marked_at)


def ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def pair_id(a: str, b: str) -> str:
    return SEPARATOR.join(ordered(a, b))


def split_pair_id(value: str) -> tuple[str, str]:
    """The two document ids of a ``pair_id``, or ``NotFoundError`` in French."""
    parts = (value or "").split(SEPARATOR)
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise no_pair(value)
    return ordered(parts[0], parts[1])


def checked_status(status: str) -> str:
    """A status a coordinator may set (``InvalidRequest``, a 422 in French, otherwise)."""
    value = (status or "").strip()
    if value not in STATUSES:
        raise InvalidRequest(
            "Statut de rapprochement invalide.",
            [Problem("status", "attendu : " + ", ".join(f"« {s} »" for s in STATUSES))],
        )
    return value


def new_mark(a: str, b: str, status: str, versions: dict[str, str], actor: str) -> PairMark:
    """A mark of ``status`` on the pair (a, b) at the documents' current ``versions``, stamped now."""
    first, second = ordered(a, b)
    return PairMark(first, second, status, versions[first], versions[second], actor, timestamp())


def no_pair(value: str) -> NotFoundError:
    return NotFoundError(f"Aucun rapprochement « {value} » : les deux documents ne sont pas proposés ensemble.")
