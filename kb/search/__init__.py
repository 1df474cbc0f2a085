"""A query in, ranked documents out.

``filters`` (parsed and applied), ``glossary`` (acronyms), ``retrieval`` (dense, lexical and
the measured hybrid fusion), ``hits`` (what it returns), ``versions`` (one document per family
of versions), ``snippets`` and ``views`` (what ``/search`` shows).
"""
