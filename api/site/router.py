"""The practitioners' site: server-rendered French pages (Jinja2), one small CSS file, no script.

Each page calls one function of ``services.site`` and renders what it returns; document text
goes through ``api/site/render.py`` (sanitised) wherever it is shown.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.concurrency import run_in_threadpool

from api.deps import ClientDep, KnowledgeBaseDep, SettingsDep, require_read
from api.downloads import download
from api.site import render
from kb.core.errors import FiltersInvalid, KBError, NotFoundError
from kb.core.themes import ThemeLabels
from kb.search.filters import MAX_VALUES
from services.bridge_links import card_passerelles_url, passerelles_url
from services.bridges import Bridges
from services.site import Site

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["markdown"] = render.markdown
templates.env.filters["plain"] = render.plain
templates.env.filters["highlighted"] = render.highlighted
# a theme as shown: the glossary's capitals ("caf" → "CAF"); links and filters keep the stored form
templates.env.filters["theme"] = pass_context(
    lambda context, theme: ThemeLabels.from_glossary(context["request"].app.state.settings.glossary_file).label(theme)
)
# the bridge view's address: from a fiche (its card), an answer, an annuaire group
templates.env.globals["fiche_passerelles_url"] = card_passerelles_url
templates.env.globals["passerelles_url"] = passerelles_url

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_read)])
public = APIRouter(include_in_schema=False)


def page(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    return page(request, "error.html", status_code, title=title, message=message, nav=None)


@public.get("/site.css")
def stylesheet() -> Response:
    return Response(
        (HERE / "static" / "site.css").read_bytes(),
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@public.get("/favicon.svg")
@public.get("/favicon.ico")  # what browsers ask for when a page names no icon
def icon() -> Response:
    return Response(
        (HERE / "static" / "favicon.svg").read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@public.get("/synthese.js")
def synthesis_script() -> Response:
    return Response(
        (HERE / "static" / "synthese.js").read_bytes(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, kb: KnowledgeBaseDep) -> HTMLResponse:
    return page(request, "home.html", home=Site(kb).home(), nav="accueil")


EXACT_SPELLING = "exacte"  # ?orthographe=exacte: search the query as typed, uncorrected


@router.get("/recherche", response_class=HTMLResponse)
def search_page(
    request: Request,
    kb: KnowledgeBaseDep,
    q: str = Query("", max_length=1000),
    type: list[str] = Query([], max_length=MAX_VALUES),
    secteur: list[str] = Query([], max_length=MAX_VALUES),
    theme: list[str] = Query([], max_length=MAX_VALUES),
    territoire: list[str] = Query([], max_length=1),
    departement: list[str] = Query([], max_length=MAX_VALUES),
    region: list[str] = Query([], max_length=MAX_VALUES),
    page_number: int = Query(1, alias="page", ge=1, le=1000),
    question: str | None = Query(None, max_length=1),
    avis: str | None = Query(None, max_length=10),
    orthographe: str | None = Query(None, max_length=10),
) -> HTMLResponse:
    selected = {
        "type": type,
        "secteur": secteur,
        "theme": theme,
        "departement": departement,
        "region": region,
        "territoire": territoire,
    }
    selected = {name: [v for v in values if v] for name, values in selected.items()}
    site = Site(kb)
    error, status = None, 200
    asked = bool(question) and bool(q.strip())
    exact = orthographe == EXACT_SPELLING  # "rechercher plutôt « … »": the query as typed
    try:
        results = site.results(q, selected, page_number, ask=asked, spelling=not exact)
        if page_number == 1 and not avis:  # not the next pages, nor the page shown after feedback
            site.log_question(results, asked)
    except FiltersInvalid as exc:
        error, status = exc.body(), 422
        results = site.results(q, {}, 1, ask=False, spelling=not exact)

    def search_link(n: int | None = None, spelling: str | None = EXACT_SPELLING if exact else None) -> str:
        query = [("q", q)] + [(name, v) for name, values in selected.items() for v in values]
        query += [("orthographe", spelling)] if spelling else []
        return "/recherche?" + urlencode(query + ([("page", n)] if n else []))

    def page_link(n: int) -> str:
        return search_link(n)

    return page(
        request,
        "results.html",
        status,
        r=results,
        error=error,
        page_link=page_link,
        exact_link=search_link(spelling=EXACT_SPELLING),
        exact=exact,
        nav="recherche",
        feedback_sent=avis == "merci",
        back=_back_query(request.url.query),
    )


_BACK_PARAMETERS = ("q", "type", "secteur", "theme", "departement", "region", "territoire", "question", "orthographe")


def _back_query(query: str) -> str:
    """The search a feedback form returns to: the page's own parameters, nothing else."""
    return urlencode([(k, v) for k, v in parse_qsl(query)[:50] if k in _BACK_PARAMETERS])


@router.post("/avis")
async def feedback_form(request: Request, kb: KnowledgeBaseDep, settings: SettingsDep, client: ClientDep) -> Response:
    """The results page's "Cette réponse vous a-t-elle aidé ?" form (no script needed): stores
    the feedback, then back to the same search with a thank-you. The form only appends
    feedback, so a cross-site post is refused by its Origin or Referer when one is given."""
    if not _same_origin(request, settings.public_url):
        return error_page(request, 403, "Envoi refusé", "Cet avis ne vient pas d'une page de ce site.")
    form = await request.form(max_fields=20, max_files=0)
    question = str(form.get("question") or "").strip()
    comment = str(form.get("commentaire") or "").strip()
    doc_ids = [str(d)[:200] for d in form.getlist("doc")][:10]
    if not question or len(question) > 1000 or len(comment) > 1000 or form.get("utile") not in ("oui", "non"):
        return error_page(
            request, 422, "Avis invalide", "L'avis doit porter sur une question et tenir en 1000 caractères au plus."
        )
    try:
        await run_in_threadpool(
            kb.questions.feedback, question, form.get("utile") == "oui", comment or None, doc_ids, "site", client
        )
    except KBError as exc:
        response = error_page(request, exc.http_status, "Avis non enregistré", str(exc))
        response.headers.update(exc.headers or {})
        return response
    back = _back_query(str(form.get("retour") or "")) or urlencode({"q": question})
    return RedirectResponse(f"/recherche?{back}&avis=merci#avis", status_code=303)


def _same_origin(request: Request, public_url: str) -> bool:
    """By host and port only: behind a proxy that ends TLS the request's own scheme is http."""
    own = {request.url.netloc}
    if public_url:
        own.add(urlsplit(public_url).netloc)
    origin = request.headers.get("origin")
    if origin is not None:
        return urlsplit(origin).netloc in own
    referer = request.headers.get("referer")
    if referer:
        return urlsplit(referer).netloc in own
    return True


@router.get("/fiches/{doc_id}", response_class=HTMLResponse)
def fiche_page(request: Request, kb: KnowledgeBaseDep, doc_id: str) -> HTMLResponse:
    try:
        fiche = Site(kb).fiche(doc_id)
    except NotFoundError:
        return error_page(request, 404, "Document introuvable", f"Aucun document « {doc_id} » dans la base.")
    return page(request, "fiche.html", f=fiche, nav=None)


@router.get("/fiches/{doc_id}/original")
def original(request: Request, kb: KnowledgeBaseDep, doc_id: str) -> Response:
    try:
        data, media_type, name = Site(kb).original(doc_id)
    except NotFoundError as exc:
        return error_page(request, 404, "Fichier introuvable", str(exc))
    return download(data, media_type, name)


@router.get("/annuaire", response_class=HTMLResponse)
def directory_page(
    request: Request,
    kb: KnowledgeBaseDep,
    territoire: str | None = Query(None, max_length=200),
    theme: str | None = Query(None, max_length=200),
    departement: str | None = Query(None, max_length=200),
) -> HTMLResponse:
    return page(request, "annuaire.html", d=Site(kb).directory(territoire, theme, departement), nav="annuaire")


@router.get("/passerelles", response_class=HTMLResponse)
def bridges_page(
    request: Request,
    kb: KnowledgeBaseDep,
    q: str = Query("", max_length=1000),
    territoire: str | None = Query(None, max_length=200),
    theme: str | None = Query(None, max_length=200),
    public: str | None = Query(None, max_length=200),
) -> HTMLResponse:
    """What each sector does on a subject, side by side (services/bridges.py)."""
    bridges = Bridges(kb)
    try:
        b = bridges.view(q, territoire, theme, public)
    except FiltersInvalid as exc:
        b = bridges.view(q, None, theme, public)
        return page(request, "passerelles.html", 422, b=b, error=exc.body(), nav="passerelles")
    return page(request, "passerelles.html", b=b, error=None, nav="passerelles")
