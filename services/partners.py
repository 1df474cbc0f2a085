"""Partner sites as the coordination page manages them: the base list of the settings
(``KB_ALLOWED_ORIGINS``, not removable here) and the stored list, each change audited."""

from __future__ import annotations

from dataclasses import asdict

from kb.audit import AuditLog
from kb.errors import ConflictError, InvalidRequest, Problem
from kb.partners import PartnerStore, normalise_origin
from kb.settings import Settings

ADDED = "site partenaire ajouté"
REMOVED = "site partenaire retiré"
# audit entries name a document; a partner change names none (readers filter on doc_id)
NO_DOCUMENT = ""


def partners_file(settings: Settings):
    return settings.data_dir / "partners.json"


class PartnerSites:
    def __init__(self, settings: Settings) -> None:
        self.base = tuple(settings.allowed_origins)
        self.store = PartnerStore(partners_file(settings))
        self.audit = AuditLog(settings.data_dir / "audit.jsonl")

    def allows(self, origin: str) -> bool:
        """Whether a browser page of ``origin`` may call the API (base list ∪ stored list)."""
        return origin in self.base or origin in self.store.origins()

    def listing(self) -> dict:
        return {"base": list(self.base), "partners": [asdict(p) for p in self.store.list()]}

    def add(self, origin: str, name: str, actor: str) -> dict:
        normalised = normalise_origin(origin)
        if normalised in self.base:
            raise ConflictError(
                f"Le site « {normalised} » fait déjà partie de la liste de base (KB_ALLOWED_ORIGINS)."
            )
        partner = self.store.add(normalised, name, actor)
        self.audit.record(actor, ADDED, NO_DOCUMENT, origin=partner.origin, name=partner.name)
        return asdict(partner)

    def remove(self, origin: str, actor: str) -> dict:
        wanted = (origin or "").strip().rstrip("/").lower()
        if wanted in self.base:
            raise InvalidRequest(
                "Ce site fait partie de la liste de base.",
                [Problem("origin", "il se retire de KB_ALLOWED_ORIGINS (configuration du serveur), pas d'ici")],
            )
        partner = self.store.remove(wanted)
        self.audit.record(actor, REMOVED, NO_DOCUMENT, origin=partner.origin, name=partner.name)
        return asdict(partner)
