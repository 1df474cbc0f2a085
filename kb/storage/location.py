"""Where one generation of the index lives: ``kb reindex`` builds the next beside the current one
and switches the pointer once it is complete, so a failed rebuild leaves the old one untouched.

Embedded: a generation is a directory under ``data_dir`` (``gen-0001``…) named by the
``CURRENT`` file. PostgreSQL: a schema (``kb_gen_0001``…) named by the ``kb_generation`` row;
its directory holds only what each process derives from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIRST_GENERATION = "gen-0001"


@dataclass(frozen=True)
class IndexLocation:
    data_dir: Path
    generation: str

    @property
    def directory(self) -> Path:
        """The generation's directory (embedded), or its local caches (PostgreSQL)."""
        return self.data_dir / self.generation

    def collection_name(self, prefix: str) -> str:
        return f"{prefix}-{self.generation}"

    def following(self) -> IndexLocation:
        """The generation a rebuild writes next."""
        number = int(self.generation.split("-")[1]) + 1
        return IndexLocation(self.data_dir, f"gen-{number:04d}")


# The sentence vectors' store beside the passages': the Chroma collection's suffix, the
# PostgreSQL table's prefix.
SENTENCE_STORE = "sentences"
