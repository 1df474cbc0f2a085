"""Progress of an ingestion, as the pipeline reports it through callbacks (the CLI draws them;
ingest/ draws nothing)."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from pathlib import Path

# The callbacks of ``Ingestor.ingest_paths`` and ``ingest_stored``.
OnStart = Callable[[int], None]  # (files found)
OnFile = Callable[[Path], None]  # a file was read (or found unchanged, or failed)
OnOcr = Callable[[Path, int, int], None]  # (file, pages OCRed, pages to OCR): 0 before the first
OnPassages = Callable[[int, int, str], None]  # (passages embedded, passages to embed, file in hand)


class PassageProgress:
    """Passages embedded against passages read so far, reported with the file whose passages
    are being embedded."""

    def __init__(self, callback: OnPassages | None) -> None:
        self.callback = callback
        self.done = 0
        self.planned = 0
        self._batch_end = 0

    def read(self, pending: int) -> None:
        self.planned = self.done + pending

    def batch(self, batch: list, texts_per_passage: list[int] | None = None) -> Callable[[int], None]:
        """The ``on_progress`` of one embedding call over ``batch`` (called with the number of
        texts embedded); ``texts_per_passage``: the texts each passage adds to the call, in
        order (its own and its sentences'), one each by default. A passage counts as done once
        its last text is embedded."""
        base = self.done
        ends = list(itertools.accumulate(len(item.chunks) for item in batch))
        text_ends = list(itertools.accumulate(texts_per_passage or [1] * ends[-1]))
        labels = [item.path_label for item in batch]
        self._batch_end = base + ends[-1]

        def report(embedded: int) -> None:
            passages = bisect.bisect_right(text_ends, embedded)
            self.done = base + passages
            if self.callback is not None:
                label = labels[min(bisect.bisect_right(ends, passages), len(labels) - 1)]
                self.callback(self.done, max(self.planned, self.done), label)

        report(0)
        return report

    def skip(self) -> None:
        """The current batch failed: its passages will not be embedded."""
        self.done = self._batch_end
