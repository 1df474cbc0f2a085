"""The PostgreSQL backend (``KB_DATABASE_URL``), shared by several servers.

``backend`` (generations, the writer lock, the stores opened), ``database`` (the pool, the
generation pointer, the advisory lock), ``store`` (what the side stores share), ``registry``
and ``vectors`` (pgvector) per generation schema, ``files`` (the documents' originals), and the
twins of the embedded side stores under the same names.
"""
