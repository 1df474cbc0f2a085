"""What `kb serve` sets up for its process before serving."""

from __future__ import annotations

import platform

import pytest

from api.server import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_server_caps_glibc_malloc_arenas():
    assert limit_malloc_arenas(2) is True


def test_no_cap_is_set_when_asked_for_none():
    assert limit_malloc_arenas(0) is False


def test_kb_serve_says_where_to_go_once_it_answers(capsys):
    """The addresses are printed once /health answers (uvicorn binds after start-up), in French."""
    import http.server
    import socket
    import threading

    from api.server import announce_when_ready

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    thread = announce_when_ready("127.0.0.1", port, timeout_s=30)
    thread.join(timeout=1.5)
    assert thread.is_alive() and "Passerelles répond" not in capsys.readouterr().out, "nothing said before"

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the library's name
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        thread.join(timeout=10)
    finally:
        server.shutdown()
    out = capsys.readouterr().out
    assert "Passerelles répond. À ouvrir :" in out
    for label, path in (("site des praticiens", "/"), ("coordination", "/coordination"), ("démonstration", "/demo")):
        assert f"{label}" in out and f"http://127.0.0.1:{port}{path}" in out
    assert f"la documentation de l'API : http://127.0.0.1:{port}/docs" in out


def test_a_server_listening_everywhere_is_announced_on_the_loopback():
    from api.server import addresses

    assert addresses("0.0.0.0", 8001)[0] == ("le site des praticiens", "http://127.0.0.1:8001/")
    assert addresses("::1", 8000)[3][1] == "http://[::1]:8000/docs"
