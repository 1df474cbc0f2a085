from __future__ import annotations

import pytest

from kb.core.settings import Settings
from kb.search.glossary import Glossary

GLOSSARY = Glossary(
    {
        "CTG": ["convention territoriale globale"],
        "PAT": ["projet alimentaire territorial"],
        "CLS": ["contrat local de santé"],
    }
)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("CTG et petite enfance", "CTG et petite enfance (convention territoriale globale)"),
        ("ctg", "ctg (convention territoriale globale)"),
        ("Convention Territoriale Globale", "Convention Territoriale Globale (CTG)"),
        ("la CTG (convention territoriale globale)", "la CTG (convention territoriale globale)"),
        ("épicerie solidaire", "épicerie solidaire"),
        ("PAT et CTG", "PAT et CTG (projet alimentaire territorial, convention territoriale globale)"),
    ],
)
def test_expansion_in_both_directions(query, expected):
    assert GLOSSARY.expand(query) == expected


def test_project_glossary_loads_and_knows_the_core_acronyms():
    glossary = Glossary.load(Settings().glossary_file)
    for acronym in ("CTG", "PAT", "EPCI", "CCAS", "LEADER", "GAL", "PNR", "ESS", "SCIC"):
        assert glossary.expand(acronym) != acronym, acronym


def test_missing_glossary_is_empty(tmp_path):
    assert len(Glossary.load(tmp_path / "absent.yaml")) == 0
