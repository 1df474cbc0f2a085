"""The coordinator's guide: a static French page, no script."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
_GUIDE = Path(__file__).parent / "static" / "guide.html"


@router.get("/coordination/guide", response_class=HTMLResponse)
def guide_page() -> HTMLResponse:
    """Le guide de la coordination : ajouter, relire, tableau de bord, sites partenaires, export."""
    return HTMLResponse(_GUIDE.read_text(encoding="utf-8"))
