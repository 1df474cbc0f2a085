"""Errors whose message is shown to French-speaking users as is."""


class KBError(Exception):
    """Base class: ``str(error)`` is a complete French sentence for the user."""


class DocumentError(KBError):
    """A source file cannot be turned into a document (corrupt, empty, too large…)."""


class IndexMismatchError(KBError):
    """The index was built with another embedding model or other chunking parameters."""


class NotFoundError(KBError):
    """The requested document does not exist in the index."""


class DuplicateDocIdError(KBError):
    """Two different files claim the same ``doc_id``."""
