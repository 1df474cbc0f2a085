"""The knowledge index over a storage backend: one generation, its embedder, its lexical side.

``knowledge_index`` (the write transaction and the reads, over the stores a backend opened),
``backends`` (a generation's stores opened together, their description checked),
``embeddings`` and ``e5_int8`` (the models), ``sentence_vectors``, ``scoped_search`` (filtered
vector queries), ``lexical``, ``bm25`` and ``lexical_index`` (the French BM25 side),
``document_tally`` (values derived from every current document).
"""
