"""A stored original sent as a download (from the data directory or the database alike)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response


def download(data: bytes, media_type: str, filename: str) -> Response:
    """The bytes as an attachment named ``filename`` (built from the doc_id by the caller),
    sandboxed and never sniffed: the content is the uploader's, not ours."""
    quoted = quote(filename)
    disposition = (
        f'attachment; filename="{filename}"' if quoted == filename else f"attachment; filename*=utf-8''{quoted}"
    )
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )
