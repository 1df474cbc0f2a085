"""What one ingestion run did to every file, and what it cost."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks_written: int = 0
    embed_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def absorb(self, other: IngestReport) -> None:
        """Add another run's outcome to this one (one rebuild made of two runs)."""
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.removed += other.removed
        self.failed += other.failed
        self.chunks_written += other.chunks_written
        self.embed_seconds += other.embed_seconds
        self.total_seconds += other.total_seconds
