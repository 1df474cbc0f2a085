"""The embeddable search widget: ``/widget.js`` and a demo partner page at ``/demo``."""

from api.widget.router import router

__all__ = ["router"]
