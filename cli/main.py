"""The `kb` command line. Help texts and messages are in French: coordinators read them."""

from __future__ import annotations

import json
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from cli import french
from cli.french import SUBCOMMANDS
from kb.core.errors import FiltersInvalid, KBError, MissingPathError, NotFoundError
from kb.core.settings import Settings

french.install()

app = typer.Typer(
    help="Passerelles : base de connaissances des méthodes et expériences du développement rural.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    subcommand_metavar=SUBCOMMANDS,
)
console = Console(stderr=True)
out = Console()


def _settings() -> Settings:
    return Settings()


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[red]Erreur :[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


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


def _print_report(report, title: str) -> None:
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


def _run_with_progress(action, description: str, settings: Settings):
    with _IngestProgress(description, settings.progress_interval_s) as progress:
        return action(**progress.callbacks())


@app.command("ingest")
def ingest_command(
    paths: list[Path] = typer.Argument(..., metavar="CHEMINS…", help="Fichiers ou dossiers à indexer (récursif)."),
    prune: bool = typer.Option(False, "--prune", help="Retirer de l'index les documents dont le fichier a disparu."),
) -> None:
    """Indexer des fichiers ou des dossiers (Markdown, PDF, y compris scannés, DOCX, PPTX, ODT, HTML, texte)."""
    from services import runtime

    settings = _settings()
    try:
        report = _run_with_progress(
            lambda **cb: runtime.ingest(settings, paths, prune=prune, **cb), "Indexation", settings
        )
    except MissingPathError as exc:
        _fail(str(exc), code=2)
    except KBError as exc:
        _fail(str(exc))
    _print_report(report, "Bilan de l'indexation")
    raise typer.Exit(0 if report.ok else 1)


@app.command("status")
def status_command(
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (pour les scripts)."),
) -> None:
    """Afficher l'état de l'index : documents, passages, modèle, emplacement."""
    from services import runtime

    try:
        index = runtime.open_index(_settings())
    except KBError as exc:
        _fail(str(exc))
    from services.calibration import index_status

    try:
        status = index.status()
        status["calibration"] = index_status(index)
    finally:
        index.close()
    if as_json:
        out.print_json(json.dumps(status, ensure_ascii=False))
        return
    table = Table(title="État de l'index", show_header=False)
    for key, value in status.items():
        shown = value["message"] if key == "calibration" else value
        table.add_row(STATUS_LABELS.get(key, key), str(shown))
    out.print(table)


# French labels of `kb status` (the --json keys stay as they are, for scripts)
STATUS_LABELS = {
    "documents": "documents",
    "chunks": "passages",
    "embedding_model": "modèle d'embeddings",
    "dimension": "dimension des vecteurs",
    "index_path": "emplacement de l'index",
    "generation": "génération",
    "vector_store": "base de vecteurs",
    "vectors": "vecteurs",
    "calibration": "calibration",
}


@app.command("remove")
def remove_command(doc_id: str = typer.Argument(..., metavar="IDENTIFIANT", help="Identifiant du document.")) -> None:
    """Retirer un document de l'index."""
    from services import runtime

    try:
        runtime.remove(_settings(), doc_id)
    except NotFoundError as exc:
        _fail(str(exc))
    except KBError as exc:
        _fail(str(exc))
    out.print(f"Document « {doc_id} » retiré de l'index.")


@app.command("reindex")
def reindex_command() -> None:
    """Reconstruire tout l'index depuis les fichiers sources (après un changement de modèle)."""
    from services import runtime

    settings = _settings()
    try:
        report = _run_with_progress(lambda **cb: runtime.reindex(settings, **cb), "Reconstruction", settings)
    except KBError as exc:
        _fail(str(exc))
    _print_report(report, "Bilan de la reconstruction")
    raise typer.Exit(0 if report.ok else 1)


def _open_kb():
    from services import runtime

    try:
        return runtime.open_knowledge_base(_settings())
    except KBError as exc:
        _fail(str(exc))


def _cli_filters(kb, doc_type, sector, theme, territory):
    try:
        return kb.parse_filters(doc_type, sector, theme, territory)
    except FiltersInvalid as exc:
        _fail("; ".join(p.message for p in exc.problems), code=2)


def _run_query(text: str, what: str, filter_values: tuple, call):
    """Open the base, parse the filters, run one service call, close: search and ask alike."""
    if not text.strip():
        _fail(f"{what} est vide.", code=2)
    kb = _open_kb()
    try:
        filters = _cli_filters(kb, *filter_values)
        try:
            return call(kb, filters)
        except KBError as exc:
            _fail(str(exc))
    finally:
        kb.close()


TYPE_OPTION = typer.Option(
    None, "--type", metavar="TYPE", help="Type de document (fiche expérience, fiche méthode…) ; répétable."
)
SECTOR_OPTION = typer.Option(
    None, "--secteur", metavar="SECTEUR", help="Secteur : action sociale, développement local, transversal ; répétable."
)
THEME_OPTION = typer.Option(None, "--theme", metavar="THÈME", help="Thème ; répétable.")
TERRITORY_OPTION = typer.Option(None, "--territoire", metavar="TERRITOIRE", help="Territoire (extrait du nom).")


@app.command("search")
def search_command(
    query: str = typer.Argument(..., metavar="QUESTION", help="La question ou les mots recherchés."),
    k: int = typer.Option(5, "-k", min=1, max=50, metavar="NOMBRE", help="Nombre de documents (1 à 50)."),
    doc_type: list[str] | None = TYPE_OPTION,
    sector: list[str] | None = SECTOR_OPTION,
    theme: list[str] | None = THEME_OPTION,
    territory: str | None = TERRITORY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Chercher les documents qui répondent à une question, avec leurs meilleurs passages."""
    found = _run_query(
        query,
        "la recherche",
        (doc_type, sector, theme, territory),
        lambda kb, filters: kb.search(query, k, filters),
    )
    results = found["results"]
    if as_json:
        out.print_json(json.dumps(results, ensure_ascii=False))
        return
    if found["corrected_query"] and results:
        out.print(f"Résultats pour « {found['corrected_query']} »", highlight=False)
    if not results:
        out.print("Aucun résultat.")
    elif not found["confident"]:
        out.print("Aucun document ne répond sûrement. Les documents les plus proches, à vérifier :")
    for rank, doc in enumerate(results, start=1):
        out.print(
            f"[bold]{rank}. {doc['title']}[/bold] ({doc['doc_type']}, {doc['sector'] or 'secteur non précisé'})",
            highlight=False,
        )
        out.print(f"   {doc['doc_id']} — {doc['source']}", highlight=False)
        for passage in doc["passages"][:1]:
            out.print(f"   {passage['snippet']}", highlight=False)


@app.command("ask")
def ask_command(
    question: str = typer.Argument(..., metavar="QUESTION", help="La question posée."),
    doc_type: list[str] | None = TYPE_OPTION,
    sector: list[str] | None = SECTOR_OPTION,
    theme: list[str] | None = THEME_OPTION,
    territory: str | None = TERRITORY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Poser une question : réponse rédigée avec les sources citées, contacts et autre secteur."""
    answer = _run_query(
        question,
        "la question",
        (doc_type, sector, theme, territory),
        lambda kb, filters: kb.ask(question, filters),
    )
    if as_json:
        out.print_json(json.dumps(answer, ensure_ascii=False))
        return
    out.print(answer["answer"], highlight=False)
    if answer["citations"]:
        out.print("\n[bold]Sources[/bold]")
        for citation in answer["citations"]:
            where = citation["section"] or (f"page {citation['page']}" if citation["page"] else "")
            out.print(f"  [{citation['n']}] {citation['title']} — {where} ({citation['doc_id']})", highlight=False)
    if answer["contacts"]:
        out.print("\n[bold]Qui contacter[/bold]")
        for contact in answer["contacts"]:
            out.print(f"  {contact['name']} : {contact['contact'] or contact['reason']}", highlight=False)
    if answer["other_sector"]:
        out.print("\n[bold]Dans l'autre secteur[/bold]")
        for doc in answer["other_sector"]:
            out.print(f"  {doc['title']} ({doc['sector']})", highlight=False)


from cli.calibration import calibrate_command  # noqa: E402
from cli.evaluation import eval_app  # noqa: E402

app.command("calibrate")(calibrate_command)

app.add_typer(eval_app, name="eval")

keys_app = typer.Typer(
    help="Clés d'accès à l'API d'écriture : coordination (publier, relire) ou contributeur (proposer).",
    no_args_is_help=True,
    subcommand_metavar=SUBCOMMANDS,
)
app.add_typer(keys_app, name="keys")


@contextmanager
def _keys():
    """The key store of the base (its files, or KB_DATABASE_URL), closed after the command."""
    from kb.storage.backend import open_backend

    store = open_backend(_settings()).key_store()
    try:
        yield store
    finally:
        store.close()


@keys_app.command("create")
def keys_create(
    name: str = typer.Argument(..., metavar="NOM", help="Nom de la clé (personne ou usage)."),
    role: str = typer.Option(
        "coordination",
        "--role",
        metavar="RÔLE",
        help="contributeur (propose des documents, relus avant publication) ou coordination "
        "(publie, relit, modifie et supprime) ; par défaut coordination.",
    ),
) -> None:
    """Créer une clé : elle n'est affichée qu'une fois, conservez-la."""
    try:
        with _keys() as keys:
            key = keys.create(name, role=role)
    except KBError as exc:
        _fail(str(exc))
    console.print(f"Clé « {name} » ({role}) créée. Elle ne sera plus jamais affichée :", highlight=False)
    out.print(key, highlight=False, soft_wrap=True)


@keys_app.command("list")
def keys_list() -> None:
    """Lister les clés (noms et dates, jamais les clés elles-mêmes)."""
    table = Table(title="Clés d'accès")
    table.add_column("nom")
    table.add_column("rôle")
    table.add_column("créée le")
    table.add_column("état")
    try:
        with _keys() as keys:
            listed = keys.list()
    except KBError as exc:
        _fail(str(exc))
    for key in listed:
        table.add_row(key.name, key.role, key.created_at, "active" if key.active else f"révoquée le {key.revoked_at}")
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(name: str = typer.Argument(..., metavar="NOM", help="Nom de la clé à révoquer.")) -> None:
    """Révoquer une clé : elle est refusée immédiatement."""
    try:
        with _keys() as keys:
            keys.revoke(name)
    except KBError as exc:
        _fail(str(exc))
    out.print(f"Clé « {name} » révoquée.")


@app.command("export")
def export_command(
    archive: Path = typer.Argument(..., metavar="ARCHIVE.zip", help="Le fichier zip à écrire."),
    questions: bool = typer.Option(False, "--questions", help="Inclure le journal des questions des praticiens."),
) -> None:
    """Exporter toute la base dans une archive zip ouverte (fichiers originaux, métadonnées,
    journal, noms des clés sans les clés elles-mêmes, sites partenaires) : de quoi la
    reconstruire ailleurs avec « kb import »."""
    from services.portability import export_base

    try:
        report = export_base(_settings(), archive, questions=questions)
    except KBError as exc:
        _fail(str(exc))
    counts = report.counts
    out.print(
        f"Archive écrite : {archive} ({counts['documents']} documents, {counts['files']} fichiers, "
        f"{counts['audit_entries']} entrées du journal, {counts['keys']} clés, {counts['partners']} sites partenaires"
        + (f", {counts['proposals']} propositions" if "proposals" in counts else "")
        + (f", {counts['questions']} questions" if "questions" in counts else "")
        + (f", {counts['vectors']} vecteurs" if counts.get("vectors") else "")
        + ").",
        highlight=False,
        soft_wrap=True,
    )
    for doc_id in report.missing_sources:
        console.print(
            f"[yellow]attention[/yellow] : le fichier du document « {doc_id} » a disparu ; "
            "ses métadonnées sont dans l'archive, pas son contenu.",
            highlight=False,
            soft_wrap=True,
        )


@app.command("import")
def import_command(
    archive: Path = typer.Argument(..., metavar="ARCHIVE.zip", help="L'archive écrite par « kb export »."),
) -> None:
    """Reconstruire une base depuis une archive de « kb export », dans un dossier de données
    vide (KB_DATA_DIR) : l'archive est vérifiée avant toute écriture, puis les documents sont
    indexés."""
    from services.portability import import_base

    settings = _settings()
    try:
        report = _run_with_progress(lambda **cb: import_base(settings, archive, **cb), "Import", settings)
    except KBError as exc:
        _fail(str(exc))
    counts = report.counts
    out.print(
        f"Base importée dans {settings.data_dir} : {counts['documents']} documents, "
        f"{counts['audit_entries']} entrées du journal, {counts['partners']} sites partenaires.",
        highlight=False,
        soft_wrap=True,
    )
    if report.indexing is not None:
        out.print(_vectors_line(report), highlight=False, soft_wrap=True)
        _print_report(report.indexing, "Bilan de l'indexation")
    if counts["keys"]:
        out.print(
            f"{counts['keys']} clé(s) importée(s) par leur nom seulement, toutes révoquées (les clés ne sont "
            "jamais exportées) : créez de nouvelles clés avec « kb keys create NOM ».",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(0 if report.indexing is None or report.indexing.ok else 1)


def _vectors_line(report) -> str:
    """Whether ``kb import`` reused the archive's vectors or embedded the passages again."""
    if report.archived_model is None:
        return f"Archive sans vecteurs : passages encodés avec le modèle {report.model}."
    if report.archived_model != report.model:
        return (
            f"Modèle différent : passages ré-encodés avec {report.model} "
            f"(les vecteurs de l'archive viennent de {report.archived_model})."
        )
    return (
        f"Vecteurs repris de l'archive ({report.model}) : {report.vectors_reused} vecteurs repris, "
        f"{report.vectors_embedded} textes ré-encodés."
    )


@app.command("migrate")
def migrate_command(
    to: str = typer.Option(
        ...,
        "--to",
        metavar="DESTINATION",
        help="Une URL postgresql://… (depuis la base embarquée de KB_DATA_DIR) ou un dossier de "
        "données vide (depuis la base PostgreSQL de KB_DATABASE_URL).",
    ),
) -> None:
    """Copier toute la base entre la base embarquée (dossier de données) et PostgreSQL, dans un
    sens ou dans l'autre, sans recalculer les vecteurs ; les nombres de documents, de passages
    et de vecteurs sont vérifiés à la fin. Les fichiers originaux des documents suivent. Les clés (qui restent valables, ou révoquées), les
    sites partenaires, les propositions, le journal des questions et des avis et le journal des
    modifications sont copiés aussi, ligne pour ligne. La destination doit être vide."""
    from kb.storage.backend import is_shared
    from services.migration import copy_side_stores, migrate, where

    source = _settings()
    if to.startswith(("postgresql://", "postgres://")):
        if is_shared(source):
            _fail("La base actuelle est déjà sur PostgreSQL (KB_DATABASE_URL) : « --to » doit être un dossier.")
        target = source.model_copy(update={"database_url": SecretStr(to)})
    else:
        if not is_shared(source):
            _fail("Pour copier vers un dossier, la source est la base PostgreSQL de KB_DATABASE_URL (non définie).")
        target = source.model_copy(update={"database_url": None, "data_dir": Path(to)})
    try:
        report = migrate(source, target, copy_stores=copy_side_stores)
    except KBError as exc:
        _fail(str(exc))
    copied = ", ".join(f"{count} {name}" for name, count in report.stores.items())
    out.print(
        f"Base copiée vers {where(target)} : {report.documents} documents, {report.passages} passages, "
        f"{report.vectors} vecteurs (vérifiés), {report.files} fichiers originaux"
        + (f" ; {copied}" if copied else "")
        + ".",
        highlight=False,
        soft_wrap=True,
    )
    for doc_id in report.missing_files:
        console.print(
            f"[yellow]attention[/yellow] : le fichier du document « {doc_id} » a disparu de la source ; "
            "le document est copié sans son original.",
            highlight=False,
            soft_wrap=True,
        )


@app.command("serve")
def serve_command(
    host: str | None = typer.Option(
        None, "--host", metavar="ADRESSE", help="Adresse d'écoute (par défaut KB_HOST, 127.0.0.1)."
    ),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, metavar="PORT", help="Port d'écoute (par défaut KB_PORT, 8000)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=64,
        metavar="N",
        help="Nombre de processus qui répondent (par défaut KB_WORKERS, 1). Plus d'un demande une "
        "base PostgreSQL (KB_DATABASE_URL), que tous partagent.",
    ),
) -> None:
    """Démarrer l'API HTTP et le site (documentation de l'API sur /docs).

    Les sites autorisés à appeler l'API depuis un navigateur (widget) : la liste de base de la
    variable KB_ALLOWED_ORIGINS (par défaut http://127.0.0.1:8000 et http://localhost:8000),
    séparés par des virgules, et les sites partenaires ajoutés depuis la page de la
    coordination (effectifs sans redémarrage)."""
    from api.server import check_workers, serve

    settings = _settings()
    try:
        check_workers(settings, workers or settings.workers)
    except KBError as exc:
        _fail(str(exc))
    serve(settings, host, port, workers)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("Interrompu.")
        sys.exit(130)


if __name__ == "__main__":
    main()
