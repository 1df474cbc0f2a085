"""What routes depend on, as ``Annotated[..., Depends()]`` types (overridable in tests).

The knowledge base is opened once, in the app's lifespan, with the embedder that
``get_embedder`` gives: tests override it (``app.dependency_overrides[get_embedder]``) to run the
real app on a toy or shared model, or override ``get_knowledge_base`` altogether.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kb.core.errors import Forbidden, Unauthorized
from kb.core.settings import Settings
from kb.index.embeddings import Embedder, create_embedder
from kb.records.keys import Actor
from services.knowledge_base import KnowledgeBase
from services.partners import PartnerSites


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_embedder(settings: SettingsDep) -> Embedder:
    """The embedding model the lifespan opens the index with (called once, at start-up)."""
    return create_embedder(settings)


def get_knowledge_base(request: Request) -> KnowledgeBase:
    """The open knowledge base, or ``ServiceUnavailable`` (503) while a backend is down."""
    return request.app.state.holder.get()


KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_knowledge_base)]


# The bearer-key scheme of /openapi.json (the "Authorize" button of /docs). auto_error=False: a
# missing or malformed header gives None here, and the routes' own French 401 below.
SECURITY_SCHEME = "cleAcces"
bearer_key = HTTPBearer(
    scheme_name=SECURITY_SCHEME,
    bearerFormat="clé d'accès Passerelles",
    description="Une clé d'accès créée sur le serveur (`kb keys create`) : coordination ou contribution. "
    "Envoyée dans l'en-tête `Authorization: Bearer <clé>`.",
    auto_error=False,
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_key)]
# The same header read for a key that is optional, or needed for reads only when KB_PUBLIC_READ
# is false: named apart so that api/openapi.py gives those operations their real requirement.
OPTIONAL_SCHEME = "cleFacultative"
READ_SCHEME = "cleLecture"
OptionalBearerDep = Annotated[
    HTTPAuthorizationCredentials | None, Depends(HTTPBearer(scheme_name=OPTIONAL_SCHEME, auto_error=False))
]
ReadBearerDep = Annotated[
    HTTPAuthorizationCredentials | None, Depends(HTTPBearer(scheme_name=READ_SCHEME, auto_error=False))
]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    token = credentials.credentials.strip() if credentials is not None else ""
    return token or None


def require_key(credentials: BearerDep, kb: KnowledgeBaseDep) -> Actor:
    """The holder of the presented key, whatever its role, or 401 (missing, wrong or revoked key)."""
    token = _token(credentials)
    if token is None:
        raise Unauthorized("Clé d'accès manquante : ajoutez l'en-tête « Authorization: Bearer <clé> ».")
    actor = kb.keys.verify(token)
    if actor is None:
        raise Unauthorized("Clé d'accès invalide ou révoquée.")
    return actor


ActorDep = Annotated[Actor, Depends(require_key)]


def require_coordinator(actor: ActorDep) -> Actor:
    """The holder of a coordination key; 403 for a contributor's key."""
    if not actor.is_coordinator:
        raise Forbidden("Cette action est réservée à la coordination.")
    return actor


CoordinatorDep = Annotated[Actor, Depends(require_coordinator)]


def presented_key(credentials: OptionalBearerDep, kb: KnowledgeBaseDep) -> Actor | None:
    """The holder of a valid key when one is presented, else None (never a 401)."""
    token = _token(credentials)
    return None if token is None else kb.keys.verify(token)


OptionalActorDep = Annotated[Actor | None, Depends(presented_key)]


def require_read(credentials: ReadBearerDep, settings: SettingsDep, kb: KnowledgeBaseDep) -> Actor | None:
    """Reads are public unless KB_PUBLIC_READ is false; then they need a key too."""
    if settings.public_read:
        return None
    return require_key(credentials, kb)


def get_partner_sites(request: Request) -> PartnerSites:
    """The partner sites the CORS check consults (built with the app: no backend needed)."""
    return request.app.state.partner_sites


PartnerSitesDep = Annotated[PartnerSites, Depends(get_partner_sites)]
CHANNEL_HEADER = "x-passerelles-canal"


def request_channel(request: Request) -> str | None:
    """Where a read comes from, for the question log: the widget marks its requests with the
    header ``X-Passerelles-Canal: widget``; anything else is a direct use of the API. The site's
    pages log their questions themselves (channel ``site``): the requests their scripts send
    (``X-Passerelles-Canal: site``, the synthesis of an answer already logged) give None, not
    logged again."""
    marked = request.headers.get(CHANNEL_HEADER, "").strip().lower()
    if marked == "site":
        return None
    return "widget" if marked == "widget" else "api"


ChannelDep = Annotated[str | None, Depends(request_channel)]


def client_address(request: Request) -> str | None:
    """The client's address, for in-memory rate limits only: never logged or stored."""
    return request.client.host if request.client else None


ClientDep = Annotated[str | None, Depends(client_address)]
