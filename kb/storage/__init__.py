"""Where bytes live; the only room that names PostgreSQL or Chroma.

``protocols``: what every backend provides, one Protocol per kind of store, and ``Backend``.
``backend``: the one place that reads the settings to choose the backend. ``location``: where a
generation of the index lives. ``registry_snapshots``: what both registries share. ``copy``:
the dump/restore contract of ``kb migrate``. ``embedded/`` (files, SQLite, Chroma) and
``postgres/`` (psycopg, pgvector) hold the twins of each store under the same file name.
"""
