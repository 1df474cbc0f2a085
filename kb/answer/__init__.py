"""Ranked documents in, a cited extractive answer out.

``answerer`` (abstention, the answer's blocks and citations), ``other_sector`` (what the other
sector did: its own ranking judged document by document with the evidence),
``digest`` (the sentences, figures and steps of one document that answer), ``units`` (a
document cut into quotable sentences and its method's steps), ``quotable`` (what is never
quoted), ``directory`` (qui fait quoi: how to reach a structure, one contact per structure),
``contacts`` (where a fiche and the directory disagree on a contact).
"""
