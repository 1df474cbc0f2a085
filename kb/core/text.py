"""Text normalisation shared by metadata handling and lexical search."""

from __future__ import annotations

import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def fold(text: str) -> str:
    """Lowercase, ligatures expanded, accents removed, whitespace and hyphens unified."""
    text = unicodedata.normalize("NFKD", str(text).translate(_LIGATURES))
    text = text.encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-]+", " ", text.strip().lower())


def collation_key(text: str) -> tuple[str, str, str]:
    """French order for what is shown sorted (themes, territories, titles, names): letters
    first, regardless of case, accents and punctuation ("écologie" with the e's, "Île-de-France"
    with the i's), then accents ("cote" < "côte"), then the text itself, so that two spellings
    never tie. PyICU is not installed; this is the part of the French collation that matters."""
    text = str(text)
    lowered = text.strip().lower()
    letters = " ".join(re.sub(r"[^\w]+", " ", fold(lowered)).split())
    return letters, lowered, text.swapcase()  # at a tie of case, lowercase first
