"""Run the app with uvicorn, whose own answers to malformed HTTP are said in French.

One process serves ``create_app(settings)`` directly; several (``kb serve --workers N``, on
PostgreSQL only) each build theirs with ``app_from_environment``, the settings being read
from the environment they inherit. The protocol class is importable by name, as uvicorn's
worker processes need it.
"""

from __future__ import annotations

import ctypes
import threading
import time
import urllib.request

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from kb.core.errors import KBError
from kb.core.settings import Settings
from kb.storage.backend import is_shared

_FRENCH = {
    "Invalid HTTP request received.": "Requête HTTP invalide.",
    "Unsupported upgrade request.": "Changement de protocole non pris en charge.",
}

try:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
except ImportError:  # httptools absent: h11 only sends ASCII bodies
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class FrenchProtocol(H11Protocol):
        def send_400_response(self, msg: str) -> None:
            super().send_400_response("Requete HTTP invalide.")

else:

    class FrenchProtocol(HttpToolsProtocol):  # type: ignore[no-redef]
        """uvicorn's httptools protocol with French 400 bodies."""

        def send_400_response(self, msg: str) -> None:
            body = _FRENCH.get(msg, "Requête HTTP invalide.").encode("utf-8")
            content = [STATUS_LINE[400]]
            for name, value in self.server_state.default_headers:
                content.extend([name, b": ", value, b"\r\n"])
            content += [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n\r\n",
                body,
            ]
            self.transport.write(b"".join(content))
            self.transport.close()


PROTOCOL = f"{__name__}:FrenchProtocol"


def _french_protocol() -> type:
    return FrenchProtocol


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``kb serve --workers N`` (uvicorn's app factory)."""
    settings = Settings()
    limit_malloc_arenas(settings.malloc_arenas)
    return create_app(settings)


_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def limit_malloc_arenas(count: int) -> bool:
    """Cap glibc's malloc arenas for the threads created from now on (the API's thread pool):
    each thread otherwise gets an arena of its own, whose freed memory stays mapped. Whether
    the cap was set (0, or a C library without ``mallopt``: nothing done)."""
    if count <= 0:
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_ARENA_MAX, int(count)))
    except (OSError, AttributeError):
        return False


def check_workers(settings: Settings, workers: int) -> None:
    """Several processes need a base they can share: PostgreSQL."""
    if workers > 1 and not is_shared(settings):
        raise KBError(
            f"{workers} processus demandés, mais la base embarquée (SQLite et Chroma dans "
            "KB_DATA_DIR) ne se partage pas entre processus : lancez un seul processus, ou "
            "configurez KB_DATABASE_URL (PostgreSQL)."
        )


def addresses(host: str, port: int) -> list[tuple[str, str]]:
    """What to open once the server answers, in French, with its address."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
    return [
        ("le site des praticiens", f"{base}/"),
        ("la page de la coordination", f"{base}/coordination"),
        ("la démonstration du widget", f"{base}/demo"),
        ("la documentation de l'API", f"{base}/docs"),
    ]


def announce_when_ready(host: str, port: int, timeout_s: float = 600.0) -> threading.Thread:
    """Print where the site, the coordination page, the demo and the API docs are as soon as
    ``/health`` answers (uvicorn binds the port after the application's start-up), from a
    daemon thread that gives up silently after ``timeout_s``."""

    def wait_then_print() -> None:
        health = addresses(host, port)[0][1] + "health"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(health, timeout=2) as response:  # noqa: S310 - our own address
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            return
        lines = "\n".join(f"  {label} : {url}" for label, url in addresses(host, port))
        print(f"Passerelles répond. À ouvrir :\n{lines}\n(Ctrl+C pour arrêter)", flush=True)

    thread = threading.Thread(target=wait_then_print, name="announce", daemon=True)
    thread.start()
    return thread


def serve(settings: Settings, host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    """``workers``: processes (default ``KB_WORKERS``); more than one needs PostgreSQL."""
    workers = workers or settings.workers
    check_workers(settings, workers)
    host, port = host or settings.host, port or settings.port
    announce_when_ready(host, port)
    if workers == 1:
        limit_malloc_arenas(settings.malloc_arenas)  # each worker process sets its own
        uvicorn.run(create_app(settings), host=host, port=port, http=PROTOCOL, log_level="info")
    else:
        app = f"{__name__}:app_from_environment"
        uvicorn.run(app, factory=True, workers=workers, host=host, port=port, http=PROTOCOL, log_level="info")
