"""What the dashboard computes from the logged questions (``kb/records/question_stats.py``): no
store, no backend."""

from __future__ import annotations

import datetime as dt

import numpy as np

from kb.records import question_stats
from kb.records.questions import LoggedQuestion


def rows(*questions: str | tuple[str, str]) -> list[LoggedQuestion]:
    """Unanswered rows; a tuple gives (question, day)."""
    out = []
    for item in questions:
        text, day = item if isinstance(item, tuple) else (item, "2026-11-02")
        out.append(LoggedQuestion(f"{day}T10:00:00+00:00", "question", text, {}, False, (), "api"))
    return out


# vectors set by hand: two subjects, and a third close to neither
HAND_VECTORS = {
    "garde d'enfants en horaires décalés": [1, 0, 0],
    "faire garder ses enfants le soir": [0.95, 0.31, 0],
    "crèche pour parents en travail de nuit": [0.93, 0.37, 0],
    "aide au permis de conduire": [0, 1, 0],
    "financer le permis des jeunes": [0.1, 0.99, 0],
    "jardins partagés": [0, 0, 1],
    "garde d'enfant en horaire décalé": [0, 0.6, 0.8],  # a typo the embedder places elsewhere
}


def hand_vectors(texts: list[str]) -> np.ndarray:
    return np.array([HAND_VECTORS[t] for t in texts], dtype=np.float32)


def test_unanswered_questions_group_by_meaning_most_asked_first():
    logged = rows(
        "garde d'enfants en horaires décalés",
        "garde d'enfants en horaires décalés",
        ("Garde d'enfants en horaires décalés ?", "2026-11-20"),
        "faire garder ses enfants le soir",
        "crèche pour parents en travail de nuit",
        "aide au permis de conduire",
        "financer le permis des jeunes",
        "financer le permis des jeunes",
        "jardins partagés",
    )
    groups = question_stats.group_questions(logged, hand_vectors, similarity=0.9)
    assert [(g["representative"], g["count"]) for g in groups] == [
        ("garde d'enfants en horaires décalés", 5),
        ("financer le permis des jeunes", 3),
        ("jardins partagés", 1),
    ]
    assert groups[0]["questions"] == [
        "garde d'enfants en horaires décalés",
        "faire garder ses enfants le soir",
        "crèche pour parents en travail de nuit",
    ]
    assert (groups[0]["first_at"], groups[0]["last_at"]) == ("2026-11-02T10:00:00+00:00", "2026-11-20T10:00:00+00:00")


def test_a_typo_joins_its_group_even_when_the_embedder_places_it_elsewhere():
    logged = rows(
        "garde d'enfants en horaires décalés",
        "garde d'enfants en horaires décalés",
        "garde d'enfant en horaire décalé",
        "jardins partagés",
    )
    groups = question_stats.group_questions(logged, hand_vectors, similarity=0.9)
    assert [g["count"] for g in groups] == [3, 1]
    assert "garde d'enfant en horaire décalé" in groups[0]["questions"]


def test_frequent_questions_count_spellings_of_one_question_together():
    logged = rows("Épicerie solidaire ?", "epicerie  solidaire", "épicerie solidaire", "vélo")
    logged[3] = LoggedQuestion(logged[3].at, "recherche", "vélo", {}, True, (), "api")
    assert question_stats.frequent(logged) == [
        {"question": "Épicerie solidaire ?", "count": 3, "found_ratio": 0.0, "last_at": "2026-11-02T10:00:00+00:00"},
        {"question": "vélo", "count": 1, "found_ratio": 1.0, "last_at": "2026-11-02T10:00:00+00:00"},
    ]


def test_weekly_volume_names_every_week_of_the_period_with_zeros():
    logged = rows(("a", "2026-11-23"), ("b", "2026-11-24"), ("c", "2026-12-07"))
    logged[1] = LoggedQuestion(logged[1].at, "question", "b", {}, True, (), "api")
    weeks = question_stats.weekly(logged, dt.date(2026, 11, 20), dt.date(2026, 12, 8))
    assert weeks == [
        {"week": "2026-W47", "questions": 0, "unanswered": 0},
        {"week": "2026-W48", "questions": 2, "unanswered": 1},
        {"week": "2026-W49", "questions": 0, "unanswered": 0},
        {"week": "2026-W50", "questions": 1, "unanswered": 1},
    ]
