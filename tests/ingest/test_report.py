"""What one ingestion run reports, and two runs added up."""

from __future__ import annotations

from ingest.report import IngestReport


def test_a_run_without_failures_is_ok_and_one_failure_is_not():
    assert IngestReport(added=["a"], unchanged=["b"]).ok
    assert not IngestReport(failed=[("casse.pdf", "fichier illisible")]).ok


def test_two_runs_add_up():
    first = IngestReport(added=["a"], chunks_written=3, embed_seconds=1.5, total_seconds=2.0)
    second = IngestReport(
        updated=["b"], removed=["c"], failed=[("d.pdf", "illisible")], chunks_written=2, total_seconds=1.0
    )
    first.absorb(second)
    assert (first.added, first.updated, first.removed, first.failed) == (["a"], ["b"], ["c"], [("d.pdf", "illisible")])
    assert (first.chunks_written, first.embed_seconds, first.total_seconds) == (5, 1.5, 3.0)
    assert not first.ok
