"""What `kb ingest`, `kb reindex` and `kb import` show while they work (live bars in a
terminal, plain French lines in a log), and the summary table they end with."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from cli.common import console, out
from kb.core.settings import Settings


class _TimeLeft(TimeRemainingColumn):
    """Time left, only for the tasks that can tell it (passages; not files, whose cost varies)."""

    def render(self, task):
        return super().render(task) if task.fields.get("eta") else Text("")


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


WAITING = "en attente de l'autre écriture en cours (un autre kb ingest, kb reindex ou le serveur)…"


class _IngestProgress:
    """What `kb ingest` and `kb reindex` show while they work: the files read (and the pages of
    a scan being OCRed), then the passages embedded out of the total with the time left. In a
    terminal, live bars; otherwise (a log, a pipe) a plain French line every few seconds, so
    that a log shows the run is alive. Fed by the pipeline's callbacks."""

    def __init__(self, description: str, interval: float) -> None:
        self.description = description
        self.interval = interval
        self.started = time.monotonic()
        self.files_total: int | None = None
        self.files_done = 0
        self.current: str | None = None
        self.ocr: tuple[int, int] | None = None
        self.passages: tuple[int, int] | None = None
        self.waiting = False  # another writer holds the base's lock
        self._embedding_since: tuple[float, int] | None = None
        self._last_passages_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bars: Progress | None = None
        self._files_task: TaskID | None = None  # the bars' two tasks, once they are shown
        self._passages_task: TaskID | None = None

    # -- callbacks of Ingestor.ingest_paths ------------------------------------------------

    def callbacks(self) -> dict:
        return {
            "on_wait": self.on_wait,
            "on_start": self.on_start,
            "on_file": self.on_file,
            "on_ocr": self.on_ocr,
            "on_passages": self.on_passages,
        }

    def on_wait(self) -> None:
        """Another writer (a `kb ingest`, a `kb reindex`, the server's writes) holds the base."""
        with self._lock:
            self.waiting = True
        if self._bars is not None and self._files_task is not None:
            self._bars.update(self._files_task, detail=WAITING)
        self._say(f"{self.description} : {WAITING}")

    def on_start(self, total: int) -> None:
        with self._lock:
            self.files_total = total
            self.waiting = False
        if self._bars is not None and self._files_task is not None:
            self._bars.update(self._files_task, detail="")
        if self._bars is not None and self._files_task is not None:
            self._bars.update(self._files_task, total=total)
        else:
            self._say(f"{self.description} : {total} fichier{'s' if total > 1 else ''} à lire.")

    def on_file(self, path: Path) -> None:
        with self._lock:
            self.files_done += 1
            self.current, self.ocr = None, None
        if self._bars is not None and self._files_task is not None:
            self._bars.update(self._files_task, completed=self.files_done, detail=path.name)

    def on_ocr(self, path: Path, done: int, total: int) -> None:
        with self._lock:
            self.current, self.ocr = path.name, (done, total)
        if self._bars is not None and self._files_task is not None:
            detail = f"{path.name} : reconnaissance de texte, page {min(done + 1, total)}/{total}"
            self._bars.update(self._files_task, detail=detail)

    def on_passages(self, done: int, total: int, source: str) -> None:
        with self._lock:
            now = time.monotonic()
            if self._embedding_since is None or done < self._embedding_since[1]:
                self._embedding_since = (now, done)
            self._last_passages_at = now
            self.passages = (done, total)
            self.current, self.ocr = Path(source).name, None
        if self._bars is not None and self._passages_task is not None:
            self._bars.update(self._passages_task, completed=done, total=total, visible=True, detail=Path(source).name)

    # -- display ---------------------------------------------------------------------------

    def __enter__(self) -> _IngestProgress:
        if console.is_terminal:
            self._bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _TimeLeft(),
                TextColumn("{task.fields[detail]}"),
                console=console,
                transient=True,
            )
            self._files_task = self._bars.add_task("Fichiers lus", total=None, detail="")
            self._passages_task = self._bars.add_task(
                "Passages calculés", total=None, detail="", eta=True, visible=False
            )
            self._bars.start()
        else:
            self._thread = threading.Thread(target=self._heartbeat, name="progression", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bars is not None:
            self._bars.stop()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.interval):
            self._say(self.line())

    def _say(self, line: str) -> None:
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    def time_left(self) -> float | None:
        """Seconds left for the passages, from the pace of the embedding so far (counted down
        between two reports of the model)."""
        if self.passages is None or self._embedding_since is None:
            return None
        done, total = self.passages
        since, done_then = self._embedding_since
        if done <= done_then:
            return None
        pace = (self._last_passages_at - since) / (done - done_then)
        return max(0.0, pace * (total - done) - (time.monotonic() - self._last_passages_at))

    def line(self) -> str:
        """The plain French progress line."""
        with self._lock:
            if self.files_total is None:
                parts = [WAITING if self.waiting else "ouverture de l'index et du modèle"]
            else:
                parts = [f"fichiers lus {self.files_done}/{self.files_total}"]
            if self.current and self.ocr:
                done, total = self.ocr
                parts.append(
                    f"en cours : {self.current} (reconnaissance de texte, page {min(done + 1, total)}/{total})"
                )
            elif self.current:
                parts.append(f"en cours : {self.current}")
            if self.passages is not None:
                done, total = self.passages
                passages = f"passages calculés {done}/{total}"
                left = self.time_left()
                if left is not None and done < total:
                    passages += f" (reste environ {_duration(left)})" if left >= 1 else " (bientôt terminé)"
                parts.append(passages)
            parts.append(f"écoulé {_duration(time.monotonic() - self.started)}")
        return f"{self.description} : " + " ; ".join(parts)


def print_report(report, title: str) -> None:
    table = Table(title=title, show_header=False)
    table.add_row("ajoutés", str(len(report.added)))
    table.add_row("mis à jour", str(len(report.updated)))
    table.add_row("inchangés", str(len(report.unchanged)))
    table.add_row("supprimés", str(len(report.removed)))
    table.add_row("en échec", str(len(report.failed)))
    table.add_row("passages écrits", str(report.chunks_written))
    table.add_row("durée", f"{report.total_seconds:.1f} s")
    out.print(table)
    for path, reason in report.failed:
        console.print(f"[red]échec[/red] {path} : {reason}", highlight=False, soft_wrap=True)


def run_with_progress(action, description: str, settings: Settings):
    with _IngestProgress(description, settings.progress_interval_s) as progress:
        return action(**progress.callbacks())
