"""The vocabulary everything speaks; imports nothing else of the project.

``settings`` (the one reader of the environment), ``errors`` (each with its HTTP status and
French message), ``models`` (document, chunk, passage), ``vocabulary`` (types, sectors, slugs),
``text`` and ``sentences`` (French normalisation and sentence splitting), and small tools:
``clock``, ``files`` (atomic writes), ``bounded_cache``, ``ratelimit``.
"""
