"""Where the side stores live: the one place that picks their backend from the settings.

``KB_DATABASE_URL`` unset: files in the data directory (``keys.json``, ``partners.json``,
``proposals.sqlite``, ``questions.sqlite``, ``audit.jsonl``). Set: tables of that PostgreSQL
database (``kb/pg_*.py``), shared by every API server and CLI pointed at it; each store holds
a handle on the process's pool and gives it back on ``close()``.

The feedback rate limiter (``kb/core/ratelimit.py``) stays in each process's memory on purpose: a
shared one would have to store the clients' addresses, which the base never stores.
"""

from __future__ import annotations

from kb.core.clock import utc_now
from kb.core.settings import Settings
from kb.records.questions import Clock
from kb.storage.embedded.audit import AuditLog
from kb.storage.embedded.keys import KeyStore
from kb.storage.embedded.partners import PartnerStore
from kb.storage.embedded.proposals import ProposalStore
from kb.storage.embedded.querylog import QuestionLog
from kb.storage.postgres.audit import PgAuditLog
from kb.storage.postgres.database import open_database
from kb.storage.postgres.keys import PgKeyStore
from kb.storage.postgres.partners import PgPartnerStore
from kb.storage.postgres.proposals import PgProposalStore
from kb.storage.postgres.querylog import PgQuestionLog
from kb.storage.postgres.store import Connect

# what callers hold: either backend, the same public methods
AnyKeyStore = KeyStore | PgKeyStore
AnyPartnerStore = PartnerStore | PgPartnerStore
AnyProposalStore = ProposalStore | PgProposalStore
AnyQuestionLog = QuestionLog | PgQuestionLog
AnyAuditLog = AuditLog | PgAuditLog


def _connect(settings: Settings) -> Connect | None:
    url = settings.database
    if url is None:
        return None
    return lambda: open_database(url, settings.database_pool_size, settings.database_timeout_s)


def open_key_store(settings: Settings) -> AnyKeyStore:
    """The API keys: ``KeyStore`` or ``PgKeyStore``."""
    connect = _connect(settings)
    if connect is None:
        return KeyStore(settings.data_dir / "keys.json")
    return PgKeyStore(connect)


def open_partner_store(settings: Settings) -> AnyPartnerStore:
    """The partner sites: ``PartnerStore`` or ``PgPartnerStore`` (which connects on first use:
    the app builds it before the database may be up)."""
    connect = _connect(settings)
    if connect is None:
        return PartnerStore(settings.data_dir / "partners.json")
    return PgPartnerStore(connect, refresh_seconds=settings.partners_refresh_s)


def open_proposal_store(settings: Settings) -> AnyProposalStore:
    """The proposals: ``ProposalStore`` or ``PgProposalStore``."""
    connect = _connect(settings)
    if connect is None:
        return ProposalStore(settings.data_dir / "proposals.sqlite")
    return PgProposalStore(connect)


def open_question_log(settings: Settings, clock: Clock = utc_now) -> AnyQuestionLog:
    """The question log and feedback: ``QuestionLog`` or ``PgQuestionLog``, purged at opening."""
    connect = _connect(settings)
    if connect is None:
        return QuestionLog(settings.data_dir / "questions.sqlite", settings.query_log_days, clock=clock)
    return PgQuestionLog(connect, settings.query_log_days, clock=clock)


def open_audit_log(settings: Settings) -> AnyAuditLog:
    """The audit log: ``AuditLog`` or ``PgAuditLog``."""
    connect = _connect(settings)
    if connect is None:
        return AuditLog(settings.data_dir / "audit.jsonl")
    return PgAuditLog(connect)
