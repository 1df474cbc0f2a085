"""Run the app with uvicorn, whose own answers to malformed HTTP are said in French."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from kb.settings import Settings

_FRENCH = {
    "Invalid HTTP request received.": "Requête HTTP invalide.",
    "Unsupported upgrade request.": "Changement de protocole non pris en charge.",
}


def _french_protocol():
    """uvicorn's HTTP protocol (httptools when installed, else h11) with French 400 bodies."""
    try:
        from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
    except ImportError:  # httptools absent: h11 only sends ASCII bodies
        from uvicorn.protocols.http.h11_impl import H11Protocol

        class FrenchH11Protocol(H11Protocol):
            def send_400_response(self, msg: str) -> None:
                super().send_400_response("Requete HTTP invalide.")

        return FrenchH11Protocol

    class FrenchProtocol(HttpToolsProtocol):
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

    return FrenchProtocol


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        http=_french_protocol(),
        log_level="info",
    )
