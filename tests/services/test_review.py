"""The one rule that says when a duplicate blocks publishing."""

from __future__ import annotations

import pytest

from services.review import is_strong


@pytest.mark.parametrize(
    "warning, strong",
    [
        ({"reasons": ["même titre"]}, True),
        ({"reasons": ["texte quasi identique (82% de passages communs)"]}, True),
        ({"reasons": ["même porteur, même territoire et même type de document"]}, False),
        ({"reasons": ["contenu très proche (similarité 0.93)"]}, False),
        ({"reasons": ["même titre"], "strong": False}, False),
        ({"reasons": ["contenu très proche (similarité 0.97)"], "strong": True}, True),
    ],
)
def test_is_strong(warning, strong):
    assert is_strong(warning) is strong
