"""What the question log says: frequent questions, unanswered ones grouped by meaning, weekly volume.

Pure functions over logged rows; the embedding of a question is given by the caller (the index's
query embedder), so the grouping can be tested with vectors set by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from kb.core.text import fold
from kb.records.questions import LoggedQuestion

FUZZY_SAME = 90  # rapidfuzz token_set_ratio from which two questions are typos of each other
MAX_VARIANTS = 5

Vectors = Callable[[list[str]], np.ndarray]


def question_key(text: str) -> str:
    """Questions that differ only by case, accents, spacing or end punctuation are one."""
    return " ".join(re.sub(r"[^\w\s']", " ", fold(text)).split())


@dataclass
class QuestionCount:
    """All the logged variants of one folded question."""

    key: str
    variants: Counter = field(default_factory=Counter)
    count: int = 0
    found: int = 0
    first_at: str = ""
    last_at: str = ""

    @property
    def text(self) -> str:
        """The most frequent spelling (the earliest seen on a tie)."""
        return self.variants.most_common(1)[0][0]


def count_questions(rows: Iterable[LoggedQuestion]) -> list[QuestionCount]:
    """One entry per folded question, most asked first (then most recent)."""
    counts: dict[str, QuestionCount] = {}
    for row in rows:
        key = question_key(row.question)
        if not key:
            continue
        entry = counts.setdefault(key, QuestionCount(key, first_at=row.at))
        entry.variants[row.question.strip()] += 1
        entry.count += 1
        entry.found += int(row.found)
        entry.first_at = min(entry.first_at, row.at)
        entry.last_at = max(entry.last_at, row.at)
    return sorted(counts.values(), key=lambda c: (-c.count, _negated(c.last_at)))


def frequent(rows: list[LoggedQuestion], limit: int = 20) -> list[dict]:
    return [
        {
            "question": entry.text,
            "count": entry.count,
            "found_ratio": round(entry.found / entry.count, 3),
            "last_at": entry.last_at,
        }
        for entry in count_questions(rows)[:limit]
    ]


@dataclass
class QuestionGroup:
    representative: QuestionCount
    vector: np.ndarray
    members: list[QuestionCount]

    def as_dict(self) -> dict:
        variants = [m.text for m in self.members][:MAX_VARIANTS]
        return {
            "representative": self.representative.text,
            "count": sum(m.count for m in self.members),
            "first_at": min(m.first_at for m in self.members),
            "last_at": max(m.last_at for m in self.members),
            "questions": variants,
        }


def group_questions(rows: list[LoggedQuestion], vectors: Vectors, similarity: float) -> list[dict]:
    """Greedy grouping, most asked first: a question joins the first group whose representative
    is close in meaning (cosine of the query embeddings >= ``similarity``) or in spelling
    (typos: token set ratio >= 90 on the folded text); otherwise it starts its own group."""
    entries = count_questions(rows)
    if not entries:
        return []
    matrix = _normalised(vectors([entry.text for entry in entries]))
    groups: list[QuestionGroup] = []
    for entry, vector in zip(entries, matrix, strict=True):
        for group in groups:
            close = float(np.dot(group.vector, vector)) >= similarity
            if close or fuzz.token_set_ratio(group.representative.key, entry.key) >= FUZZY_SAME:
                group.members.append(entry)
                break
        else:
            groups.append(QuestionGroup(entry, vector, [entry]))
    ordered = sorted(groups, key=lambda g: (-sum(m.count for m in g.members), _negated(g.representative.last_at)))
    return [group.as_dict() for group in ordered]


def weekly(rows: list[LoggedQuestion], since: dt.date, until: dt.date) -> list[dict]:
    """Questions and unanswered questions per ISO week, every week of the period (zeros too)."""
    questions: Counter = Counter()
    unanswered: Counter = Counter()
    for row in rows:
        week = iso_week(dt.date.fromisoformat(row.at[:10]))
        questions[week] += 1
        unanswered[week] += int(not row.found)
    weeks = []
    day = since - dt.timedelta(days=since.weekday())
    while day <= until:
        weeks.append(iso_week(day))
        day += dt.timedelta(days=7)
    return [{"week": week, "questions": questions[week], "unanswered": unanswered[week]} for week in weeks]


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _normalised(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def _negated(timestamp: str) -> tuple[int, ...]:
    """Sorts the most recent first inside an ascending sort."""
    return tuple(-ord(c) for c in timestamp)
