"""Partner sites as the coordination page manages them: the base list of the settings
(``KB_ALLOWED_ORIGINS``, not removable here) and the stored list, each change audited."""

from __future__ import annotations

import threading
from dataclasses import asdict

from kb.core.errors import ConflictError, InvalidRequest, Problem
from kb.core.settings import Settings
from kb.records.partners import normalise_origin, wanted_origin
from kb.storage.backend import open_backend

ADDED = "site partenaire ajouté"
REMOVED = "site partenaire retiré"
# audit entries name a document; a partner change names none (readers filter on doc_id)
NO_DOCUMENT = ""


class PartnerSites:
    def __init__(self, settings: Settings) -> None:
        self.base = tuple(settings.allowed_origins)
        self.store = open_backend(settings).partner_store()
        # lazily: the app builds this before the database may be up (the partner store waits too)
        self._settings = settings
        self._audit = None
        self._audit_lock = threading.Lock()

    @property
    def audit(self):
        with self._audit_lock:
            if self._audit is None:
                self._audit = open_backend(self._settings).audit_log()
            return self._audit

    def close(self) -> None:
        self.store.close()
        if self._audit is not None:
            self._audit.close()

    def allows(self, origin: str) -> bool:
        """Whether a browser page of ``origin`` may call the API (base list ∪ stored list)."""
        return origin in self.base or origin in self.store.origins()

    def listing(self) -> dict:
        return {"base": list(self.base), "partners": [asdict(p) for p in self.store.list()]}

    def add(self, origin: str, name: str, actor: str) -> dict:
        normalised = normalise_origin(origin)
        if normalised in self.base:
            raise ConflictError(f"Le site « {normalised} » fait déjà partie de la liste de base (KB_ALLOWED_ORIGINS).")
        partner = self.store.add(normalised, name, actor)
        self.audit.record(actor, ADDED, NO_DOCUMENT, origin=partner.origin, name=partner.name)
        return asdict(partner)

    def remove(self, origin: str, actor: str) -> dict:
        wanted = wanted_origin(origin)
        if wanted in self.base:
            raise InvalidRequest(
                "Ce site fait partie de la liste de base.",
                [Problem("origin", "il se retire de KB_ALLOWED_ORIGINS (configuration du serveur), pas d'ici")],
            )
        partner = self.store.remove(wanted)
        self.audit.record(actor, REMOVED, NO_DOCUMENT, origin=partner.origin, name=partner.name)
        return asdict(partner)
