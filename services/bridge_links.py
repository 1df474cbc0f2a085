"""Links to the bridge view (``/passerelles``) from the pages, the answers and the widget.

Apart from ``services/bridges.py`` so that ``KnowledgeBase`` can name the page in an answer
without importing the view (which imports ``KnowledgeBase``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from kb.core.territories import enclosing_names


def passerelles_url(subject: str | None, territory: str | None = None, base_url: str = "") -> str | None:
    """The bridge view's address for a subject (and a territory); relative unless the site's
    base URL is given (KB_PUBLIC_URL), like the fiches' pages."""
    if not subject or not subject.strip():
        return None
    query = [("q", subject.strip())] + ([("territoire", territory)] if territory else [])
    return f"{base_url.rstrip('/')}/passerelles?{urlencode(query)}"


def card_passerelles_url(doc: dict) -> str | None:
    """From a fiche (as a page card shows it, ``services.site.card``): its main theme, else its
    title, as subject; its département, else its région, else its territory as written."""
    themes = doc.get("themes") or []
    subject = themes[0] if themes else doc.get("title")
    territory = doc.get("territory")
    areas = enclosing_names(territory, "departement") or enclosing_names(territory, "region")
    return passerelles_url(subject, areas[0] if areas else territory)
