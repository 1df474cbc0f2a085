"""ASGI middleware: every error becomes a proper response, every response carries security headers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb.core.errors import UploadTooLarge

logger = logging.getLogger("passerelles.api")

INTERNAL_ERROR = {"detail": "Erreur interne du service : réessayez plus tard."}


class CatchAll:
    """An unexpected error is answered with a French 500 here, instead of propagating to the
    server, which would then close the kept-alive connection under the next request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            logger.exception("unexpected error on %s", scope.get("path"))
            if started:
                raise  # nothing sensible can be sent any more
            body = json.dumps(INTERNAL_ERROR, ensure_ascii=False).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Every request body is bounded: by ``upload_limit`` on the routes that receive a document
    (``is_upload(method, path)``; ``upload_mb``: the limit of the document itself, for the
    message), by ``limit`` everywhere else. A body whose Content-Length passes the bound is
    refused before any of it is read; a body without one (chunked) is counted as it arrives and
    refused as soon as it passes the bound, so it is never held whole in memory nor written to
    disk. The refusal, a French 413, is answered here, whatever the route was doing with the
    body when it was cut."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        upload_limit: int,
        upload_mb: float,
        is_upload: Callable[[str, str], bool],
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_mb = upload_mb
        self.is_upload = is_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self.is_upload(scope["method"], scope["path"])
        limit = self.upload_limit if upload else self.limit
        declared = Headers(scope=scope).get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            message = str(UploadTooLarge.file(int(declared), self.upload_mb)) if upload else _too_large(limit, upload)
            await _refuse(send, message)
            return
        received = 0
        cut = started = False

        async def counted() -> Message:
            nonlocal received, cut
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut = True
                    raise UploadTooLarge(_too_large(limit, upload))  # stops whatever reads the body
            return message

        async def unless_cut(message: Message) -> None:
            nonlocal started
            if cut and not started:
                return  # the route's own answer to the cut body: the 413 is sent instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, unless_cut)
        except Exception:
            if not cut or started:
                raise
        if cut and not started:
            await _refuse(send, _too_large(limit, upload))


def _too_large(limit: int, upload: bool) -> str:
    size = f"{limit / 1_048_576:.1f} Mo".replace(".", ",") if limit >= 1_048_576 else f"{limit // 1024} Ko"
    advice = "envoyez un fichier plus petit" if upload else "raccourcissez-la"
    return f"Requête trop volumineuse (plus de {size}) : {advice}."


async def _refuse(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail, "problems": []}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """nosniff and a referrer policy on every response; on HTML pages, a Content-Security-Policy
    without inline scripts and the framing rule of the page (``frame_ancestors`` by path prefix,
    the first match wins). A response that sets its own policy keeps it (a download's
    ``sandbox``: an uploaded HTML file must not run as a page of the site)."""

    def __init__(
        self, app: ASGIApp, frame_ancestors: list[tuple[str, str]], default_ancestors: Callable[[], str]
    ) -> None:
        self.app = app
        self.frame_ancestors = frame_ancestors
        self.default_ancestors = default_ancestors

    def _ancestors(self, path: str) -> str:
        for prefix, value in self.frame_ancestors:
            if path.startswith(prefix):
                return value
        return self.default_ancestors()  # partner sites change while the server runs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = {k.lower(): v for k, v in message.get("headers", [])}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OWN]
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                content_type = given.get(b"content-type", b"")
                if b"content-security-policy" in given:
                    # a response's own policy stays: a download's ``sandbox`` (api/downloads.py)
                    headers.append((b"content-security-policy", given[b"content-security-policy"]))
                elif content_type.startswith(b"text/html"):
                    ancestors = self._ancestors(path)
                    csp = (
                        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                        "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
                        f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
                    )
                    headers.append((b"content-security-policy", csp.encode()))
                    if ancestors == "'none'":
                        headers.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


_OWN = {b"x-content-type-options", b"referrer-policy", b"content-security-policy", b"x-frame-options"}


class FrenchCORSMiddleware(CORSMiddleware):
    """Starlette's CORS policy, with its refusal of a preflight said in French, and origins
    checked by ``allows`` on each request (the partner sites change while the server runs)."""

    def __init__(
        self,
        app: ASGIApp,
        allows: Callable[[str], bool],
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
    ) -> None:
        # named, not **options: mypy cannot match a **kwargs signature to add_middleware's ParamSpec
        super().__init__(app, allow_origins=allow_origins, allow_methods=allow_methods, allow_headers=allow_headers)
        self.allows = allows

    def is_allowed_origin(self, origin: str) -> bool:
        return self.allow_all_origins or self.allows(origin)

    _FAILURES = {
        "origin": "ce site (origine)",
        "method": "cette méthode",
        "headers": "ces en-têtes",
        "private-network": "l'accès au réseau privé",
    }

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ").split(", ")
        what = ", ".join(self._FAILURES.get(item, item) for item in refused)
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        return JSONResponse(
            {
                "detail": f"Requête d'un autre site refusée (CORS) : {what} non autorisé(s). Le site doit "
                "figurer parmi les sites partenaires (page de coordination) ou dans KB_ALLOWED_ORIGINS."
            },
            status_code=400,
            headers=headers,
        )
