"""Ranked documents in, a cited extractive answer out.

``answerer`` (abstention, the answer's blocks and citations, the other sector),
``digest`` (the sentences of one document that answer), ``directory`` (qui fait quoi: how to
reach a structure).
"""
