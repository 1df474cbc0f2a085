"""Rapprochements: pairs of documents of the two sectors that work on the same subject or
public, for the coordinator's working group (docs/coordination.md#rapprochements).

- ``profiles``: what one document brings to a pair (sector, territory, publics, the structures
  it names) and the pairwise score, fitted on evaluation/rapprochements.jsonl.
- ``tally``: the pairs kept in step with the registry (only the documents written since are
  scored again).
- ``reason``: the French sentence that says what a pair shares, with a quote of each side.
"""
