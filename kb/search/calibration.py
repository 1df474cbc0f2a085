"""Which thresholds apply to the index in use: abstention calibrated for its model.

The answer threshold, the search floor, the evidence weights fitted with them and the duplicate
check's meaning threshold are fitted on one model's scores: another model's cosines live on
another scale, and a threshold carried over from it abstains on everything or on nothing. Each
value is therefore resolved for the index's model (and reranker) in this order:

1. a ``KB_`` setting set explicitly (``Settings.model_fields_set``): source "réglage";
2. the calibration `kb calibrate` stored in the index for this model and reranker: "index";
3. the calibration shipped for a bundled model (``kb/resources/calibrations.json``): "intégrée";
4. none: "absente". The search then lists without a floor, /ask answers in the grey zone's
   words (never "la base ne contient rien" unless nothing matches at all) and the duplicate
   check skips its meaning rule: no threshold fitted on another model's scores applies.

The values fitted with the reranker's scores need a record of the same reranker; the duplicate
threshold compares passage vectors only, so any record of the same model serves it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kb.core.settings import Settings

# the key of index_info holding the records (bookkeeping: not compared when the index opens)
CALIBRATION_KEY = "calibration"
SETTING, STORED, BUILT_IN, ABSENT = "réglage", "index", "intégrée", "absente"
# the model-dependent values; ``rerank_weight`` only exists with a reranker
ANSWER_VALUES = ("answer_min_score", "answer_unknown_weight", "answer_gap_background", "search_min_evidence")
VALUES = (*ANSWER_VALUES, "duplicate_semantic", "rerank_weight")
# values whose scale does not depend on the reranker (passage cosines)
MODEL_ONLY = frozenset({"duplicate_semantic"})
BUILT_IN_FILE = Path(__file__).resolve().parents[1] / "resources" / "calibrations.json"
MISSING_MESSAGE = "calibration absente : lancez `kb calibrate`"


@dataclass(frozen=True)
class Calibration:
    """The resolved values (absent ones missing from ``values``) and where each comes from."""

    model_id: str
    reranker_id: str | None
    values: Mapping[str, float] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    record: Mapping[str, Any] | None = None  # the stored or built-in record used, if any
    record_source: str | None = None  # STORED or BUILT_IN

    def get(self, name: str) -> float | None:
        return self.values.get(name)

    @property
    def overrides(self) -> list[str]:
        return [name for name in VALUES if self.sources.get(name) == SETTING]

    @property
    def missing(self) -> list[str]:
        names = VALUES if self.reranker_id else VALUES[:-1]
        return [name for name in names if self.sources.get(name, ABSENT) == ABSENT]

    @property
    def source(self) -> str:
        """What `kb status` and /health show first: the record used, else the settings when
        they set the answer's threshold, else "absente"."""
        if self.record_source is not None:
            return self.record_source
        return SETTING if self.sources.get("answer_min_score") == SETTING else ABSENT

    def summary(self) -> dict[str, Any]:
        record = self.record or {}
        return {
            "source": self.source,
            "model": self.model_id,
            "reranker": self.reranker_id,
            "date": record.get("date"),
            "questions": record.get("questions"),
            "overrides": self.overrides,
            "missing": self.missing,
            "message": describe(self),
        }


def describe(calibration: Calibration) -> str:
    """One French sentence on the calibration in use."""
    source = calibration.source
    extra = f" ; réglages qui priment : {', '.join(calibration.overrides)}" if calibration.overrides else ""
    if source == ABSENT:
        return MISSING_MESSAGE + extra
    if source == SETTING:
        return "seuils fixés par les réglages KB_" + (
            f" ; {MISSING_MESSAGE} pour : {', '.join(calibration.missing)}" if calibration.missing else ""
        )
    date = (calibration.record or {}).get("date") or "date inconnue"
    where = "stockée dans l'index" if source == STORED else "intégrée pour ce modèle"
    return f"calibration {where} ({date}){extra}"


def matches(record: Mapping[str, Any], model_id: str, reranker_id: str | None, name: str) -> bool:
    if record.get("model") != model_id:
        return False
    return name in MODEL_ONLY or record.get("reranker") == reranker_id


def resolve(
    settings: Settings,
    model_id: str,
    reranker_id: str | None = None,
    stored: list[Mapping[str, Any]] | None = None,
    built_in: list[Mapping[str, Any]] | None = None,
) -> Calibration:
    """Each value from the first of: an explicit setting, a stored record, a built-in one."""
    built_in = built_in_records() if built_in is None else built_in
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    used: tuple[Mapping[str, Any], str] | None = None
    for name in VALUES:
        if name in settings.model_fields_set and getattr(settings, name, None) is not None:
            values[name], sources[name] = float(getattr(settings, name)), SETTING
            continue
        sources[name] = ABSENT
        for records, source in ((stored or [], STORED), (built_in, BUILT_IN)):
            # an exact reranker match first: a model-only value may come from another record
            found = _first(records, model_id, reranker_id, name)
            if found is not None:
                values[name], sources[name] = float(found["values"][name]), source
                if used is None or (used[1] == BUILT_IN and source == STORED):
                    used = (found, source)
                break
    return Calibration(model_id, reranker_id, values, sources, used[0] if used else None, used[1] if used else None)


def _first(
    records: list[Mapping[str, Any]], model_id: str, reranker_id: str | None, name: str
) -> Mapping[str, Any] | None:
    candidates = [r for r in records if matches(r, model_id, reranker_id, name) and name in r.get("values", {})]
    exact = [r for r in candidates if r.get("reranker") == reranker_id]
    found = exact or candidates
    return found[0] if found else None


@lru_cache(maxsize=1)
def _built_in(path: Path) -> tuple[dict[str, Any], ...]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    return tuple(data.get("calibrations", []))


def built_in_records(path: Path = BUILT_IN_FILE) -> list[Mapping[str, Any]]:
    """The calibrations shipped for the bundled models."""
    return list(_built_in(path))


def stored_records(registry: Any) -> list[Mapping[str, Any]]:
    """The records `kb calibrate` stored in an index's registry (none on an older registry)."""
    value = registry.calibration()
    return list(value) if isinstance(value, list) else []


def valid_records(value: Any) -> list[dict[str, Any]]:
    """The well-formed records of a stored or archived calibration: a model id, a reranker id
    or none, known values as finite numbers within [-1, 2] (cosines, weights, shares). Anything
    else is dropped: an archive's calibration never sets a threshold it could not have fitted."""
    records = []
    for record in value if isinstance(value, list) else []:
        if not isinstance(record, Mapping) or not isinstance(record.get("model"), str):
            continue
        if not (record.get("reranker") is None or isinstance(record.get("reranker"), str)):
            continue
        values = record.get("values")
        if not isinstance(values, Mapping) or not values:
            continue
        if not all(
            name in VALUES
            and isinstance(number, int | float)
            and not isinstance(number, bool)
            and math.isfinite(number)
            and -1.0 <= number <= 2.0
            for name, number in values.items()
        ):
            continue
        records.append(dict(record))
    return records


def with_record(records: list[Mapping[str, Any]], record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``records`` with ``record`` in place of any of the same model and reranker."""
    kept = [r for r in records if (r.get("model"), r.get("reranker")) != (record["model"], record.get("reranker"))]
    return [*kept, dict(record)]


def calibration_of(index: Any, reranker_id: str | None = None) -> Calibration:
    """The calibration in use for a ``KnowledgeIndex``: its settings, its stored records, the
    built-in ones, for its model and ``reranker_id``."""
    return resolve(index.settings, index.embedder.model_id, reranker_id, stored_records(index.registry))


def reranker_id(retriever: Any) -> str | None:
    """The ``model_id`` of the reranker a retriever uses (None without one): a calibration
    fitted with a reranker's order holds for that reranker only."""
    return getattr(getattr(retriever, "reranker", None), "model_id", None)
