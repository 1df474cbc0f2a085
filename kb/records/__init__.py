"""The side stores' domain, shared by both backends: types, rules and row conversions, no I/O.

``keys`` (actors, roles, key digests), ``partners`` (widget origins), ``proposals`` (statuses
and their transitions), ``questions`` (the question log's rows and retention) with
``question_stats`` (what the log says), ``audit`` (an entry). The stores themselves live in
``kb/storage/embedded`` and ``kb/storage/postgres``, under the same file names.
"""
