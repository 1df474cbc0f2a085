"""Filling the coordination page's template in a browser test (Playwright page)."""

from __future__ import annotations


def fill_repair_cafe(page, contact: str = "") -> None:
    """A valid fiche expérience: a travelling repair café."""
    page.fill("#f-title", "Un repair café itinérant dans les villages")
    page.select_option("#f-doc_type", "fiche expérience")
    page.select_option("#f-sector", "transversal")
    page.fill("#f-themes", "réemploi, lien social")
    page.fill("#f-territory", "Communauté de communes du Val Fleuri")
    page.fill("#f-porteur", "Association Répar'Tout")
    page.fill(
        "#f-summary", "Un camion atelier fait le tour de huit villages pour réparer objets et vélos avec les habitants."
    )
    page.fill("#s-resultats", "En 2024, 310 objets ont été réparés et 45 bénévoles formés.")
    page.fill("#s-contact", contact)
