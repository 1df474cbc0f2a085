"""A query in, ranked documents out.

``query`` (a query expanded and analysed once), ``filters`` (parsed and applied), ``glossary``
(acronyms), ``retrieval`` (dense, lexical and the measured hybrid fusion), ``hits`` (what it
returns), ``versions`` (one document per family of versions), ``evidence`` (whether the base
answers: the floor of /search, the threshold of /ask), ``snippets`` and ``views`` (what
``/search`` shows).
"""
