"""The core of Passerelles, in rooms; a room imports only the rooms below it (tests/test_layers.py).

- ``core``: vocabulary, settings, errors, text and sentences; depends on nothing in the project.
- ``records``: the side stores' domain (keys, partners, proposals, questions, audit): types,
  rules and row conversions, no I/O.
- ``storage``: where bytes live; the protocols every backend honours, the one place that picks
  the backend (``storage/backend.py``), ``embedded/`` (files, SQLite, Chroma) and ``postgres/``.
- ``index``: the knowledge index over a backend: generations, embedders, vector and lexical sides.
- ``search``: a query in, ranked documents out (retrieval, fusion, versions, filters, views).
- ``answer`` and ``duplicates``: a cited answer from ranked documents; warnings for a new one.
- ``rapprochements``: pairs of documents of the two sectors for the coordinator's working group.
"""
