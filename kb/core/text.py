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
