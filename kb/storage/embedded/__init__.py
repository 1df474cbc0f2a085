"""The embedded backend: files, SQLite and Chroma in the data directory (``KB_DATA_DIR``).

``backend`` (generations, the writer lock, the stores opened), ``registry`` (which version of
each document is current), ``chroma`` (vector store, embedded or a ``chroma run`` server),
``sqlite`` (what the SQLite stores share), and the side stores ``keys``, ``partners``,
``proposals``, ``querylog``, ``audit``.
"""
