"""/openapi.json with each operation's real key requirement.

FastAPI marks every operation that depends on a bearer scheme as requiring it. Here that is true
of the coordination's routes only: a read is public unless ``KB_PUBLIC_READ`` is false, and a few
reads take a key when one is given (``presented_key``: the index's paths in /stats, the
proposals in /documents). ``api/deps.py`` reads the header for those under two more scheme names;
here they become one scheme again, with an optional requirement (``[{}, {scheme: []}]``,
OpenAPI's "no key or this key") or none, so /docs and schemathesis see what the server does.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.deps import OPTIONAL_SCHEME, READ_SCHEME, SECURITY_SCHEME
from kb.core.settings import Settings

REQUIRED: list[dict[str, list]] = [{SECURITY_SCHEME: []}]
OPTIONAL: list[dict[str, list]] = [{}, {SECURITY_SCHEME: []}]


def key_requirement(schemes: set[str], public_read: bool) -> list[dict[str, list]] | None:
    """An operation's ``security`` from the schemes its dependencies read: required, optional,
    or None (no key used)."""
    if SECURITY_SCHEME in schemes or (READ_SCHEME in schemes and not public_read):
        return REQUIRED
    if OPTIONAL_SCHEME in schemes:
        return OPTIONAL
    return None


def corrected(schema: dict[str, Any], public_read: bool) -> dict[str, Any]:
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            schemes = {name for requirement in operation.pop("security", []) for name in requirement}
            security = key_requirement(schemes, public_read)
            if security is not None:
                operation["security"] = security
    defined = schema.get("components", {}).get("securitySchemes", {})
    for name in (OPTIONAL_SCHEME, READ_SCHEME):
        defined.pop(name, None)
    return schema


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Replace ``app.openapi`` by FastAPI's schema with the key requirements corrected."""
    generate = app.openapi  # FastAPI's own, which caches its schema in app.openapi_schema

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = corrected(generate(), settings.public_read)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
