"""Mixed-load and fault benchmark: `python -m evaluation.bench_faults [--quick] [--corpus DIR] [--kills N]`.

What it measures, on a real `kb serve` process (free loopback port, its own temporary data dir):

- **Phase A, readers only**: R reader threads loop on `GET /search` and `POST /ask` with fresh
  French questions (built from the corpus's titles, themes and territories, never repeated, so
  the server's query-embedding cache never helps). Latencies per route.
- **Phase B, readers + one writer**: the same readers while one writer cycles `POST /documents`
  (fiches from 1 to a few hundred passages), `PUT /documents/{id}` and `DELETE /documents/{id}`.
  Reader p95 under writes divided by reader p95 without them (goal: at most 1.5).
- **Phase C, kills**: the load goes on, and K times the server is SIGKILLed while a write is in
  flight, then restarted. A write that got a 2xx is *acknowledged* and must survive; a write cut
  by the kill is *unacknowledged* and may or may not have happened, but never half.
- **Consistency check**, server stopped, with the project's own index code: every acknowledged
  write holds its last acknowledged content (a marker sentence unique to each fiche version),
  every acknowledged delete is gone, unacknowledged writes left the old or the new state, the
  registry's API documents match the files under `data/documents/`, and the vector store holds
  exactly the registry's current chunks (no orphan, none missing).

It prints figures and never asserts timings: the exit code is 0 even when latency goals are
missed, 1 when the consistency check fails, 2 when the benchmark could not run (no server).
`--quick` (about a minute plus the ingestion) ingests a subset of the sample corpus and runs
short phases; a full run takes about five minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from evaluation.bench_api import free_port, percentile
from evaluation.datasets import PROJECT_ROOT
from evaluation.machine import describe_machine
from kb.core.models import chunk_id
from kb.core.settings import Settings
from kb.index.embeddings import create_embedder
from services.runtime import open_index

READ_ROUTES = ("/search", "/ask")
WRITE_OPS = ("POST", "PUT", "DELETE")
# --quick ingests these folders of the sample corpus only (about 150 passages): the full corpus
# takes minutes to embed on 2 shared cores, and the phases do not need it to exercise the paths
QUICK_FOLDERS = ("financements", "questions-reponses", "veille")
SERVER_START_TIMEOUT = 240.0  # model load + lexical index + reconcile() of what a kill left
READ_TIMEOUT = 30.0
WRITE_TIMEOUT = 240.0  # a few hundred passages embedded on a loaded 2-core machine


@dataclass(frozen=True)
class Profile:
    """Durations and write sizes of a run (seconds, passages)."""

    read_seconds: float  # phase A, and phase B
    kill_budget: float  # phase C stops after this even when fewer kills were done
    settle_seconds: float  # normal service after the last restart, before stopping
    medium: tuple[int, int]
    large: tuple[int, int]


FULL = Profile(read_seconds=35, kill_budget=100, settle_seconds=6, medium=(20, 40), large=(100, 200))
QUICK = Profile(read_seconds=12, kill_budget=50, settle_seconds=3, medium=(10, 20), large=(40, 70))


# -- the server ----------------------------------------------------------------------------


def cli(*args: str) -> list[str]:
    # the project's own `kb` command, run with this interpreter (the venv's)
    return [sys.executable, "-m", "cli.main", *args]


class Server:
    """`kb serve` in its own process, restartable on the same port after a SIGKILL."""

    def __init__(self, data_dir: Path, logs: Path) -> None:
        self.data_dir = data_dir
        self.logs = logs
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> float:
        """Start and wait for /health; the seconds it took."""
        self.starts += 1
        started = time.monotonic()
        with open(self.logs / f"server-{self.starts}.log", "wb") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                cli("serve", "--host", "127.0.0.1", "--port", str(self.port)),
                env={**os.environ, "KB_DATA_DIR": str(self.data_dir)},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
            )
        deadline = started + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"le serveur s'est arrêté au démarrage (code {self.process.returncode})")
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"le serveur n'a pas répondu sur /health en {SERVER_START_TIMEOUT:.0f} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> bool:
        """Graceful stop (SIGTERM); False when it had to be killed."""
        if self.process is None or self.process.poll() is not None:
            return True
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
            return True
        except subprocess.TimeoutExpired:
            self.kill()
            return False

    def tracebacks(self, limit: int = 3) -> list[str]:
        """The last exception lines the server logged (to explain 5xx responses)."""
        found = []
        for path in sorted(self.logs.glob("server-*.log")):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            for number, line in enumerate(lines):
                if line.startswith("Traceback"):
                    tail = [text for text in lines[number : number + 60] if text and not text.startswith(" ")]
                    found.append(f"{path.name}: {tail[-1] if tail else line}")
        return found[-limit:]


# -- data dir and material -----------------------------------------------------------------


def corpus_paths(corpus: Path, quick: bool, default_corpus: bool) -> list[Path]:
    """What to ingest: the whole corpus, or its QUICK_FOLDERS with --quick (sidecars live
    beside their files, so whole folders keep every document readable)."""
    subset = [corpus / name for name in QUICK_FOLDERS if (corpus / name).is_dir()]
    return subset if quick and default_corpus and subset else [corpus]


def prepare_data_dir(paths: list[Path], data_dir: Path, index_dir: Path | None) -> str:
    """Ingest into ``data_dir`` (or into ``index_dir``, reused from run to run, then copied: the
    benchmark's writes never touch it) and create the write key: the key."""
    if index_dir is None:
        kb_ingest(paths, data_dir)
    else:
        kb_ingest(paths, index_dir)  # incremental: unchanged files are neither embedded nor written
        shutil.copytree(index_dir, data_dir, ignore=shutil.ignore_patterns(".write.lock", "keys.json"))
    return create_key(data_dir)


def kb_ingest(paths: list[Path], data_dir: Path) -> None:
    env = {**os.environ, "KB_DATA_DIR": str(data_dir)}
    ingest = subprocess.run(cli("ingest", *map(str, paths)), env=env, capture_output=True, text=True, timeout=1800)
    if ingest.returncode not in (0, 1):  # 1: some files failed, reported, the run goes on
        raise RuntimeError(f"kb ingest a échoué (code {ingest.returncode}) : {ingest.stderr[-500:]}")


def create_key(data_dir: Path) -> str:
    """`kb keys create bench` prints the key once, on stdout."""
    env = {**os.environ, "KB_DATA_DIR": str(data_dir)}
    keys = subprocess.run(cli("keys", "create", "bench"), env=env, capture_output=True, text=True, timeout=120)
    key = next((line.strip() for line in keys.stdout.splitlines() if line.strip().startswith("psl_")), None)
    if keys.returncode != 0 or key is None:
        raise RuntimeError(f"kb keys create a échoué : {keys.stderr[-500:]}")
    return key


@dataclass
class Material:
    """What questions and fiches are made of: the corpus's own words."""

    titles: list[str]
    themes: list[str]
    territories: list[str]
    sentences: list[str]
    corpus_documents: int
    corpus_passages: int


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def read_material(index) -> Material:
    titles, themes, territories, sentences = [], set(), set(), []
    for stored in index.documents():
        meta = stored.metadata
        titles.append(meta.title)
        themes.update(meta.themes)
        if meta.territory:
            territories.add(meta.territory)
        for sentence in _SENTENCE.split(index.document_text(meta.doc_id) or ""):
            sentence = " ".join(sentence.split())
            # plain prose only: headings, tables and lists would make odd fiches
            if 40 <= len(sentence) <= 300 and not sentence.startswith(("#", "|", "-", "*")):
                sentences.append(sentence)
    documents, passages = index.counts()
    return Material(sorted(titles), sorted(themes), sorted(territories), sentences, documents, passages)


_TITLE_TEMPLATES = (
    "comment d'autres ont fait : {title} ?",
    "quelles difficultés rencontrées pour {title} ?",
    "qui contacter au sujet de {title} ?",
    "quels résultats pour {title} ?",
    "quel budget pour {title} ?",
    "par quelles étapes commencer : {title}",
)
_THEME_TEMPLATES = (
    "comment monter un projet de {theme} sur {territory} ?",
    "quels financements pour {theme} à {territory} ?",
    "exemples de {theme} près de {territory}",
    "qui travaille sur {theme} autour de {territory} ?",
)


class Questions:
    """A thread-safe stream of questions never sent before (the server caches query vectors)."""

    def __init__(self, material: Material, seed: int) -> None:
        pool = {t.format(title=title.lower()) for title in material.titles for t in _TITLE_TEMPLATES}
        pool |= {
            t.format(theme=theme, territory=territory)
            for theme in material.themes
            for territory in material.territories
            for t in _THEME_TEMPLATES
        }
        self._pool = sorted(pool)
        random.Random(seed).shuffle(self._pool)
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            n = self._next
            self._next += 1
        question = self._pool[n % len(self._pool)]
        # past the pool, a round number keeps the text (hence the query vector) new
        return question if n < len(self._pool) else f"{question} (série {n // len(self._pool)})"

    @property
    def size(self) -> int:
        return len(self._pool)


# -- shared state, samples -----------------------------------------------------------------


@dataclass
class InFlight:
    op: str
    doc_id: str
    passages: int
    started: float


@dataclass
class Shared:
    """What the threads share: the phase, whether the server is up, the write in flight."""

    phase: str = "warm-up"
    stop_readers: threading.Event = field(default_factory=threading.Event)
    stop_writer: threading.Event = field(default_factory=threading.Event)
    server_up: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: InFlight | None = None


@dataclass
class ReadSample:
    route: str
    phase: str
    seconds: float
    status: int | None  # None: no response (connection lost, timeout)
    error: str | None = None
    during_kill: bool = False  # sent while the server was (about to be) down


class Samples:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reads: list[ReadSample] = []

    def add(self, sample: ReadSample) -> None:
        with self._lock:
            self.reads.append(sample)


# -- readers -------------------------------------------------------------------------------


def reader(number: int, base: str, shared: Shared, questions: Questions, samples: Samples) -> None:
    """Alternate /search and /ask until told to stop; wait while the server is down."""
    route_index = number % 2  # half the readers start with /ask: both routes are always loaded
    http = httpx.Client(base_url=base, timeout=READ_TIMEOUT)
    try:
        while not shared.stop_readers.is_set():
            if not shared.server_up.wait(timeout=0.5):
                continue
            route = READ_ROUTES[route_index % 2]
            route_index += 1
            phase = shared.phase
            question = questions.take()
            started = time.perf_counter()
            try:
                if route == "/search":
                    response = http.get("/search", params={"q": question, "k": 10})
                else:
                    response = http.post("/ask", json={"question": question})
                samples.add(ReadSample(route, phase, time.perf_counter() - started, response.status_code))
            except httpx.HTTPError as exc:
                down = not shared.server_up.is_set()
                samples.add(ReadSample(route, phase, time.perf_counter() - started, None, type(exc).__name__, down))
                # a new client: no kept-alive connection to a killed server is ever reused
                http.close()
                http = httpx.Client(base_url=base, timeout=READ_TIMEOUT)
    finally:
        http.close()


# -- the writer and what it expects --------------------------------------------------------

ABSENT = None  # the state of a document that is not (or no longer) there


@dataclass
class Tracked:
    """One document written by the benchmark: the states it may be in at the end.

    ``allowed`` holds the marker of every state the document may end in (ABSENT when it may be
    gone). An acknowledged write makes it a single state; a write cut by a kill adds its outcome
    to the previous state. Once a write is cut, the writer leaves the document alone."""

    doc_id: str
    number: int
    allowed: set[str | None] = field(default_factory=lambda: {ABSENT})
    acknowledged: str | None = ABSENT  # state after the last acknowledged write
    acknowledged_op: str | None = None
    uncertain: bool = False  # an unacknowledged write touched it
    versions: int = 0


@dataclass
class WriteRecord:
    op: str
    doc_id: str
    phase: str
    seconds: float
    outcome: str  # acknowledged | refused (an error response) | unacknowledged | not sent
    status: int | None = None
    passages: int | None = None  # the server's chunk count (acknowledged POST/PUT)
    error: str | None = None
    aimed: int = 0  # the passages the fiche was built for (0 for DELETE)


class Writer:
    """Cycles POST / PUT / DELETE on the benchmark's own documents, tracking what must survive."""

    def __init__(self, base: str, key: str, material: Material, profile: Profile, run: str, seed: int) -> None:
        self.base = base
        self.auth = {"Authorization": f"Bearer {key}"}
        self.material = material
        self.profile = profile
        self.run = run
        self.rng = random.Random(seed)
        self.docs: dict[str, Tracked] = {}
        self.records: list[WriteRecord] = []
        self._lock = threading.Lock()

    def marker(self, doc: Tracked) -> str:
        # letters and digits only: kept verbatim by every reader, unique per document version
        return f"ctl{self.run}n{doc.number:04d}v{doc.versions:03d}"

    def markers_in(self, doc: Tracked, text: str) -> set[str]:
        return set(re.findall(rf"ctl{self.run}n{doc.number:04d}v\d{{3}}", text))

    def estimate(self, aimed: int) -> float | None:
        """Seconds a write of ``aimed`` passages should take, from the acknowledged ones so far."""
        rates = [r.seconds / r.aimed for r in self.records if r.outcome == "acknowledged" and r.aimed]
        return statistics.median(rates) * aimed if len(rates) >= 2 else None

    def live(self) -> list[Tracked]:
        """Documents whose state is certain and present: the ones PUT and DELETE may touch."""
        return [d for d in self.docs.values() if not d.uncertain and d.acknowledged is not ABSENT]

    def run_loop(self, shared: Shared) -> None:
        while not shared.stop_writer.is_set():
            if not shared.server_up.wait(timeout=0.5):
                continue
            # one connection per write: a kept-alive connection to a killed server would make a
            # write that was never sent look unacknowledged
            with httpx.Client(base_url=self.base, timeout=WRITE_TIMEOUT, headers=self.auth) as http:
                self.one_write(http, shared)

    def choose_op(self) -> tuple[str, Tracked]:
        live = self.live()
        roll = self.rng.random()
        if len(live) < 3 or roll < 0.4:
            number = len(self.docs) + 1
            doc = Tracked(doc_id=f"bench-{self.run}-{number:04d}", number=number)
            self.docs[doc.doc_id] = doc
            return "POST", doc
        return ("PUT" if roll < 0.75 else "DELETE"), self.rng.choice(live)

    def size(self, phase: str) -> int:
        """Passages to aim for: mostly small fiches, some tens, some a hundred or more. Phase C
        favours the larger ones, so that kills land in the middle of a long write; the last
        seconds ("settle") avoid them, so that stopping does not wait for a long write."""
        roll = self.rng.random()
        small, medium = {"C": (0.3, 0.8), "settle": (0.6, 1.0)}.get(phase, (0.55, 0.85))
        if roll < small:
            return 1
        if roll < medium:
            return self.rng.randint(*self.profile.medium)
        return self.rng.randint(*self.profile.large)

    def one_write(self, http: httpx.Client, shared: Shared) -> None:
        op, doc = self.choose_op()
        phase = shared.phase
        passages = 0
        new_state: str | None
        if op != "DELETE":
            doc.versions += 1
            passages = self.size(phase)
            new_state = self.marker(doc)
            body = make_fiche(doc.doc_id, new_state, passages, self.rng, self.material)
        else:
            new_state = ABSENT
        with shared.lock:
            shared.in_flight = InFlight(op, doc.doc_id, passages, time.monotonic())
        started = time.perf_counter()
        try:
            if op == "POST":
                response = http.post("/documents", json=body)
            elif op == "PUT":
                response = http.put(f"/documents/{doc.doc_id}", json=body)
            else:
                response = http.delete(f"/documents/{doc.doc_id}")
        except httpx.ConnectError as exc:
            # the connection was never made: the server cannot have seen the request
            self.record(
                WriteRecord(op, doc.doc_id, phase, time.perf_counter() - started, "not sent", error=type(exc).__name__)
            )
            self.forget_unsent(op, doc)
            return
        except httpx.HTTPError as exc:
            self.record(
                WriteRecord(
                    op, doc.doc_id, phase, time.perf_counter() - started, "unacknowledged", error=type(exc).__name__
                )
            )
            doc.allowed.add(new_state)
            doc.uncertain = True
            return
        finally:
            with shared.lock:
                shared.in_flight = None
        seconds = time.perf_counter() - started
        if 200 <= response.status_code < 300:
            chunks = response.json().get("chunks") if op != "DELETE" else None
            self.record(
                WriteRecord(
                    op, doc.doc_id, phase, seconds, "acknowledged", response.status_code, chunks, aimed=passages
                )
            )
            doc.allowed = {new_state}
            doc.acknowledged, doc.acknowledged_op = new_state, op
        else:
            # an error response: the write must have changed nothing ("a failed write changes nothing")
            self.record(
                WriteRecord(op, doc.doc_id, phase, seconds, "refused", response.status_code, error=response.text[:300])
            )

    def forget_unsent(self, op: str, doc: Tracked) -> None:
        if op != "DELETE":
            doc.versions -= 1

    def record(self, record: WriteRecord) -> None:
        with self._lock:
            self.records.append(record)


def make_fiche(doc_id: str, marker: str, passages: int, rng: random.Random, material: Material) -> dict:
    """A valid fiche expérience of about ``passages`` passages, carrying ``marker`` in its summary."""
    themes = rng.sample(material.themes, k=min(len(material.themes), rng.randint(1, 3))) or ["mobilité"]
    territory = rng.choice(material.territories) if material.territories else "Communauté de communes du Val Fleuri"
    subject = rng.choice(material.titles).lower() if material.titles else "un projet rural"
    sections = make_sections(passages, rng, material.sentences)
    return {
        "id": doc_id,
        "title": f"Essai de charge {doc_id} : {subject}"[:200],
        "doc_type": "fiche expérience",
        "sector": rng.choice(("action sociale", "développement local")),
        "themes": themes,
        "territory": territory,
        "porteur": "Association Banc d'Essai",
        "date": "2025-06-01",
        "summary": f"Fiche de contrôle du banc d'essai, repère {marker}. {rng.choice(material.sentences or ['Un atelier ouvert à tous.'])}",
        "sections": sections,
    }


_SECTION_KEYS = (
    "contexte",
    "objectifs",
    "public",
    "etapes",
    "moyens_et_financements",
    "difficultes",
    "conseils",
    "pieges",
    "resultats",
    "suites",
    "quand_l_utiliser",
    "contact",
)
_CHARS_PER_PASSAGE = 1000  # measured: 1,000-character windows, sentence cuts and overlap give about this
_SECTION_LIMIT = 18_000  # the template accepts 20,000 characters per section


def make_sections(passages: int, rng: random.Random, sentences: list[str]) -> dict[str, str]:
    """Corpus sentences drawn at random, enough for about ``passages`` chunks."""
    sentences = sentences or ["Les bénévoles accueillent les habitants chaque semaine dans l'ancienne poste."]
    if passages <= 1:
        return {"contexte": " ".join(rng.choice(sentences) for _ in range(2))}
    total = passages * _CHARS_PER_PASSAGE
    count = min(len(_SECTION_KEYS), max(1, -(-total // _SECTION_LIMIT)))
    sections = {}
    for key in _SECTION_KEYS[:count]:
        parts, length = [], 0
        while length < total / count:
            sentence = rng.choice(sentences)
            parts.append(sentence)
            length += len(sentence) + 1
        sections[key] = " ".join(parts)[:_SECTION_LIMIT]
    return sections


# -- phases --------------------------------------------------------------------------------


@dataclass
class Kill:
    op: str | None
    doc_id: str | None
    passages: int
    in_flight_seconds: float
    restart_seconds: float | None = None


def run_phase(shared: Shared, name: str, seconds: float) -> float:
    shared.phase = name
    started = time.monotonic()
    time.sleep(seconds)
    return time.monotonic() - started


def kill_phase(
    server: Server, shared: Shared, writer: Writer, kills: int, profile: Profile, rng: random.Random
) -> tuple[list[Kill], float]:
    """Phase C: SIGKILL the server ``kills`` times while a write is in flight, restart it."""
    shared.phase = "C"
    started = time.monotonic()
    deadline = started + profile.kill_budget
    done: list[Kill] = []
    while len(done) < kills and time.monotonic() < deadline:
        time.sleep(1.5)  # some normal service between kills: writes get acknowledged again
        kill = kill_during_write(server, shared, writer, rng, deadline)
        if kill is None:
            break
        done.append(kill)
        try:
            kill.restart_seconds = server.start()
        finally:
            shared.server_up.set()  # even a failed start: the threads then fail fast and stop
    elapsed = time.monotonic() - started
    shared.phase = "settle"  # normal service after the last restart (not in the figures)
    time.sleep(profile.settle_seconds)
    return done, elapsed


def kill_during_write(
    server: Server, shared: Shared, writer: Writer, rng: random.Random, deadline: float
) -> Kill | None:
    """SIGKILL the server at a random point of a write in flight.

    The point is drawn between 20 % and 105 % of the time the write should take (estimated from
    the acknowledged writes), so kills land in the embedding as well as in the short store
    step at the end; a write that ends before its point is let go and the next one is tried."""
    seen, delay = None, 0.0
    while time.monotonic() < deadline:
        with shared.lock:
            flight = shared.in_flight
        if flight is not None and flight is not seen:
            seen = flight
            expected = writer.estimate(flight.passages)
            delay = rng.uniform(0.2, 1.05) * expected if expected else rng.uniform(0.1, 2.5)
        if flight is not None and time.monotonic() - flight.started >= delay:
            shared.server_up.clear()
            server.kill()
            return Kill(flight.op, flight.doc_id, flight.passages, time.monotonic() - flight.started)
        time.sleep(0.01)
    return None


def warm_up(base: str, questions: Questions) -> None:
    """A few requests first: the lexical index and caches are built before phase A is timed."""
    with httpx.Client(base_url=base, timeout=120) as http:
        for _ in range(3):
            http.get("/search", params={"q": questions.take(), "k": 10})
            http.post("/ask", json={"question": questions.take()})


# -- consistency check ---------------------------------------------------------------------


@dataclass
class Check:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def figure(self, label: str, good: int, total: int, details: Sequence[str] = ()) -> None:
        self.lines.append(f"{label}: {good}/{total}" + ("" if good == total else "  <-- FAILED"))
        if good != total:
            self.failures.append(label)
            self.lines += [f"    {line}" for line in list(details)[:10]]

    def equal(self, label: str, left_name: str, left: int, right_name: str, right: int) -> None:
        ok = left == right
        self.lines.append(f"{label}: {left_name} {left}, {right_name} {right}" + ("" if ok else "  <-- FAILED"))
        if not ok:
            self.failures.append(label)


def document_files(files_dir: Path) -> dict[str, Path]:
    """doc_id -> file for the documents kept under data/documents (hidden entries and sidecars aside)."""
    if not files_dir.exists():
        return {}
    return {
        path.name.split(".")[0]: path
        for path in files_dir.iterdir()
        if path.is_file() and not path.name.startswith(".") and ".meta." not in path.name
    }


def check_consistency(data_dir: Path, embedder, writer: Writer, material: Material) -> Check:
    """Open the index the server left (server stopped) and compare it with what was acknowledged."""
    check = Check()
    index = open_index(Settings(data_dir=data_dir), embedder)
    try:
        check_documents(check, index, data_dir / "documents", writer)
        check_stores(check, index, data_dir / "documents", material)
    finally:
        index.close()
    return check


MIXED = "a mix of versions"


def final_state(writer: Writer, doc: Tracked, text: str | None) -> str | None:
    """The marker a document holds: ABSENT when gone, MIXED when it holds several versions."""
    if text is None:
        return ABSENT
    found = writer.markers_in(doc, text)
    return found.pop() if len(found) == 1 else MIXED


def shown(state: str | None) -> str:
    return "absent" if state is ABSENT else state


def category(doc: Tracked) -> str | None:
    """Which promise a document's end state is checked against (None: it was never written)."""
    if doc.uncertain:
        return "unacknowledged"
    if doc.acknowledged_op == "DELETE":
        return "deleted"
    return "present" if doc.acknowledged is not ABSENT else None


def check_documents(check: Check, index, files_dir: Path, writer: Writer) -> None:
    files = document_files(files_dir)
    totals: Counter[str] = Counter()
    good: Counter[str] = Counter()
    bad: dict[str, list[str]] = {name: [] for name in ("present", "deleted", "unacknowledged", "files")}
    applied: Counter[str] = Counter()
    for doc in writer.docs.values():
        state = final_state(writer, doc, index.document_text(doc.doc_id))
        path = files.get(doc.doc_id)
        file_state = final_state(writer, doc, path.read_text(encoding="utf-8") if path else None)
        totals["files"] += 1
        good["files"] += file_state == state
        if file_state != state:
            bad["files"].append(f"{doc.doc_id}: index holds {shown(state)}, its file {shown(file_state)}")
        kind = category(doc)
        if kind is None:
            continue
        totals[kind] += 1
        ok = state in doc.allowed
        good[kind] += ok
        if kind == "unacknowledged" and ok:
            applied["not applied" if state == doc.acknowledged else "applied"] += 1
        if not ok:
            bad[kind].append(
                f"{doc.doc_id}: last acknowledged {doc.acknowledged_op} -> {shown(doc.acknowledged)}, "
                f"may hold {sorted(map(shown, doc.allowed))}, holds {shown(state)}"
            )
    check.figure(
        "acknowledged writes present with their last content", good["present"], totals["present"], bad["present"]
    )
    check.figure("acknowledged deletes gone", good["deleted"], totals["deleted"], bad["deleted"])
    check.figure(
        "unacknowledged writes left whole (old or new state)",
        good["unacknowledged"],
        totals["unacknowledged"],
        bad["unacknowledged"],
    )
    if totals["unacknowledged"]:
        check.lines.append(f"    of which applied {applied['applied']}, not applied {applied['not applied']}")
    check.figure("benchmark documents whose file agrees with the index", good["files"], totals["files"], bad["files"])


def check_stores(check: Check, index, files_dir: Path, material: Material) -> None:
    documents = index.documents()
    root = files_dir.resolve()
    api_docs = {
        d.metadata.doc_id for d in documents if d.metadata.source_path and Path(d.metadata.source_path).parent == root
    }
    files = set(document_files(files_dir))
    check.equal("API documents: registry vs files under data/documents", "registry", len(api_docs), "files", len(files))
    for doc_id in sorted(api_docs ^ files)[:10]:
        check.lines.append(f"    {doc_id}: {'registry only' if doc_id in api_docs else 'file only'}")
    corpus_docs = len(documents) - len(api_docs)
    check.equal("corpus documents untouched", "before", material.corpus_documents, "after", corpus_docs)
    stash = files_dir.parent / "stash"  # where a write puts the files it replaces (ingest/writer.py)
    leftovers = [p.name for p in stash.rglob("*") if p.is_file()] if stash.exists() else []
    check.equal("stashed files left behind (data/stash)", "found", len(leftovers), "expected", 0)

    expected = {chunk_id(d.metadata.doc_id, d.version, i) for d in documents for i in range(d.chunk_count)}
    stored = set(index.vectors.versions_by_chunk())
    registry_chunks = index.counts()[1]
    check.equal("registry chunks vs vectors", "chunks", registry_chunks, "vectors", index.vectors.count())
    check.equal("orphan vectors (no current chunk)", "found", len(stored - expected), "expected", 0)
    check.equal("current chunks without a vector", "found", len(expected - stored), "expected", 0)


# -- report --------------------------------------------------------------------------------


def latency_line(values: list[float], seconds: float) -> str:
    if not values:
        return "no successful request"
    return (
        f"{len(values):5d} served, {len(values) / seconds:5.1f} req/s, p50 {1000 * statistics.median(values):5.0f} ms, "
        f"p95 {1000 * percentile(values, 0.95):5.0f} ms, p99 {1000 * percentile(values, 0.99):5.0f} ms"
    )


def report_reads(samples: Samples, durations: dict[str, float], clients: int) -> None:
    print(f"\n== Readers ({clients} threads, distinct questions) ==")
    p95 = {}
    for route in READ_ROUTES:
        for phase, label in (("A", "A readers only   "), ("B", "B with one writer"), ("C", "C kills+restarts ")):
            values = [s.seconds for s in samples.reads if s.route == route and s.phase == phase and s.status == 200]
            print(f"{route:8} {label}: {latency_line(values, durations.get(phase, 1.0))}")
            if values:
                p95[route, phase] = percentile(values, 0.95)
    for route in READ_ROUTES:
        if (route, "A") in p95 and (route, "B") in p95:
            ratio = p95[route, "B"] / p95[route, "A"]
            print(f"{route:8} p95(B)/p95(A) = {ratio:.2f} (goal <= 1.5: {'met' if ratio <= 1.5 else 'missed'})")


def report_writes(writer: Writer) -> None:
    print("\n== Writes (one writer) ==")
    acknowledged = [r for r in writer.records if r.outcome == "acknowledged"]
    for op in WRITE_OPS:
        rows = [r for r in acknowledged if r.op == op]
        if rows:
            seconds = [r.seconds for r in rows]
            passages = [r.passages for r in rows if r.passages]
            extra = f", passages {min(passages)}-{max(passages)} (total {sum(passages)})" if passages else ""
            print(
                f"{op:6} {len(rows):4d} acknowledged, p50 {1000 * statistics.median(seconds):6.0f} ms, "
                f"p95 {1000 * percentile(seconds, 0.95):6.0f} ms, max {1000 * max(seconds):6.0f} ms{extra}"
            )
    for phase, label in (("B", "phase B"), ("C", "phase C"), ("settle", "after the last restart")):
        ops = Counter(r.op for r in acknowledged if r.phase == phase)
        print(f"{label}: {sum(ops.values())} acknowledged (" + ", ".join(f"{op} {ops[op]}" for op in WRITE_OPS) + ")")
    outcomes = Counter(r.outcome for r in writer.records)
    print("outcomes: " + ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items())))
    embedded = sum(r.passages or 0 for r in acknowledged)
    busy = sum(r.seconds for r in acknowledged if r.op != "DELETE")
    if busy:
        print(
            f"write path: {embedded} passages in {busy:.1f} s of POST/PUT = {embedded / busy:.1f} passages/s under read load"
        )


def report_errors(samples: Samples, writer: Writer, server: Server) -> None:
    print("\n== Errors ==")
    statuses: Counter[tuple[str, int]] = Counter()
    for sample in samples.reads:
        if sample.status is not None and sample.status != 200:
            statuses[sample.route, sample.status] += 1
    for record in writer.records:
        if record.status is not None and not 200 <= record.status < 300:
            statuses[record.op, record.status] += 1
    server_errors = sum(count for (_, status), count in statuses.items() if status >= 500)
    print(f"5xx responses: {server_errors}")
    for (route, status), count in sorted(statuses.items()):
        print(f"  {route} -> {status}: {count}")
    for record in [r for r in writer.records if r.outcome == "refused"][:5]:
        print(f"  refused {record.op} {record.doc_id} ({record.status}): {record.error}")
    lost = Counter((s.route, s.error, s.during_kill) for s in samples.reads if s.status is None)
    for (route, error, during_kill), count in sorted(lost.items(), key=str):
        when = "at a kill" if during_kill else "OUTSIDE any kill"
        print(f"  {route}: no response ({error}) {when}: {count}")
    if server_errors:
        for line in server.tracebacks():
            print(f"  server log: {line}")


def report_kills(kills: list[Kill], wanted: int, writer: Writer) -> None:
    print(f"\n== Kills: {len(kills)}/{wanted} done (SIGKILL during a write, then restart) ==")
    cut = {r.doc_id: r for r in writer.records if r.outcome == "unacknowledged"}
    for number, kill in enumerate(kills, start=1):
        restart = f"{kill.restart_seconds:.1f} s" if kill.restart_seconds is not None else "FAILED"
        fate = "unacknowledged" if kill.doc_id in cut else "acknowledged anyway (or never sent)"
        size = f" ({kill.passages} passages aimed)" if kill.op != "DELETE" else ""
        print(
            f"  kill {number}: {kill.op} {kill.doc_id}{size} after "
            f"{kill.in_flight_seconds:.2f} s in flight, {fate}; back on /health in {restart}"
        )


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short phases, a subset of the sample corpus")
    parser.add_argument("--corpus", type=Path, default=None, help="folder to ingest (default: corpus/)")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs during writes in phase C (default 3)")
    parser.add_argument("--readers", type=int, default=4, help="reader threads (default 4)")
    parser.add_argument("--seconds", type=float, default=None, help="duration of phases A and B each")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--index-dir",
        type=Path,
        default=None,
        help="ingest the corpus here and reuse it on later runs (the run works on a copy)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir and server logs")
    args = parser.parse_args(argv)
    print(describe_machine(), flush=True)
    profile = QUICK if args.quick else FULL
    if args.seconds:
        profile = Profile(args.seconds, profile.kill_budget, profile.settle_seconds, profile.medium, profile.large)
    corpus = (args.corpus or PROJECT_ROOT / "corpus").resolve()
    if not corpus.is_dir():
        print(f"corpus introuvable : {corpus}", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    try:
        return run(args, profile, corpus, tmp)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"benchmark impossible: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"\ndata dir and server logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args, profile: Profile, corpus: Path, tmp: Path) -> int:
    started = time.monotonic()
    data_dir = tmp / "data"
    paths = corpus_paths(corpus, args.quick, args.corpus is None)
    key = prepare_data_dir(paths, data_dir, args.index_dir)
    # one embedder for both looks at the index from this process (material, final check)
    embedder = create_embedder(Settings(data_dir=data_dir))
    index = open_index(Settings(data_dir=data_dir), embedder)
    material = read_material(index)
    index.close()
    questions = Questions(material, args.seed)
    print(
        f"data dir: {material.corpus_documents} documents, {material.corpus_passages} passages from "
        f"{', '.join(p.name for p in paths)} ({time.monotonic() - started:.0f} s to ingest); "
        f"{questions.size} distinct questions"
    )

    server = Server(data_dir, tmp)
    try:
        print(f"server up in {server.start():.1f} s on {server.base}")
    except RuntimeError as exc:
        print(f"benchmark impossible: {exc}", file=sys.stderr)
        print("\n".join(server.tracebacks()), file=sys.stderr)
        return 2
    run_id = f"{os.getpid() % 1000:03d}{random.Random().randrange(1000):03d}"  # markers unique to this run
    writer = Writer(server.base, key, material, profile, run_id, args.seed)
    samples = Samples()
    durations, kills, graceful = drive(server, writer, samples, questions, profile, args)

    report_reads(samples, durations, args.readers)
    report_writes(writer)
    report_errors(samples, writer, server)
    report_kills(kills, args.kills, writer)
    print("\n== Consistency (server stopped" + ("" if graceful else ", had to be killed") + ") ==")
    check = check_consistency(data_dir, embedder, writer, material)
    print("\n".join(check.lines))
    print(f"\nconsistency: {'FAILED (' + ', '.join(check.failures) + ')' if check.failures else 'ok'}")
    print(f"total time: {time.monotonic() - started:.0f} s")
    return 1 if check.failures else 0


def drive(server: Server, writer: Writer, samples: Samples, questions: Questions, profile: Profile, args):
    """Phases A, B and C on a started server, then a graceful stop: (durations, kills, graceful)."""
    shared = Shared()
    shared.server_up.set()
    readers = [
        threading.Thread(target=reader, args=(n, server.base, shared, questions, samples), daemon=True)
        for n in range(args.readers)
    ]
    writer_thread = threading.Thread(target=writer.run_loop, args=(shared,), daemon=True)
    durations: dict[str, float] = {}
    kills: list[Kill] = []
    try:
        warm_up(server.base, questions)
        for thread in readers:
            thread.start()
        durations["A"] = run_phase(shared, "A", profile.read_seconds)
        writer_thread.start()
        durations["B"] = run_phase(shared, "B", profile.read_seconds)
        kills, durations["C"] = kill_phase(server, shared, writer, args.kills, profile, random.Random(args.seed))
    except (RuntimeError, httpx.HTTPError) as exc:  # e.g. a failed restart: report, then check
        print(f"\nphase interrupted: {exc}", file=sys.stderr)
    finally:
        shared.stop_writer.set()
        if writer_thread.is_alive():  # its write in flight completes (bounded by its timeout)
            writer_thread.join(timeout=WRITE_TIMEOUT + 5)
        shared.stop_readers.set()
        for thread in readers:
            thread.join(timeout=READ_TIMEOUT + 5)
        graceful = server.stop()
    return durations, kills, graceful


if __name__ == "__main__":
    raise SystemExit(main())
