"""A file without front matter ingested into a base of labelled documents gets its sector,
territory and publics inferred and marked so (real Chroma in a temp dir, toy embedder)."""

from __future__ import annotations

from pathlib import Path

import yaml

from ingest.inference import FROM_TEXT
from ingest.pipeline import Ingestor
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from tests.fakes import ToyEmbedder
from tests.ingest.test_inference import CCAS_MINUTE

# Three labelled documents per sector: what the classifier learns from.
LABELLED = {
    "action sociale": [
        (
            "Épicerie solidaire itinérante",
            "L'épicerie solidaire reçoit les ménages en précarité orientés par les travailleurs sociaux du "
            "CCAS, de la CAF et de la MDS. Un camion va dans les villages ; l'accès aux droits et l'aide "
            "alimentaire sont au cœur du projet. Les allocataires du RSA et les familles monoparentales "
            "sont accompagnés par l'assistante sociale.",
        ),
        (
            "Analyse des besoins sociaux du CIAS",
            "Le CIAS conduit son analyse des besoins sociaux : isolement des personnes âgées, non-recours "
            "aux droits, précarité énergétique. Le conseil d'administration du CIAS examine les aides "
            "facultatives et les secours d'urgence des ménages en difficulté.",
        ),
        (
            "Parentalité itinérante du centre social",
            "Le centre social agréé par la CAF anime un lieu d'accueil enfants-parents itinérant et des "
            "cafés des parents. La PMI et le Département orientent les familles isolées ; la convention "
            "territoriale globale finance l'action sociale familiale.",
        ),
    ],
    "développement local": [
        (
            "Programme LEADER du GAL",
            "Le GAL LEADER finance sur le FEADER les projets de circuits courts, les commerces des bourgs "
            "et l'attractivité touristique. Le comité de programmation du PETR sélectionne les projets "
            "des communes, des entreprises et des associations.",
        ),
        (
            "Espace-test agricole en maraîchage",
            "L'espace-test agricole permet aux candidats à l'installation de tester leur projet de "
            "maraîchage avec la chambre d'agriculture. Le foncier, le matériel et la commercialisation "
            "en vente directe sont mis à disposition des producteurs.",
        ),
        (
            "Création et reprise d'entreprises",
            "Le service développement économique de la communauté de communes accompagne la création et "
            "la reprise d'entreprises artisanales et commerciales du centre-bourg, avec la CCI et la "
            "chambre de métiers, dans le programme Petites villes de demain.",
        ),
    ],
    "transversal": [
        (
            "Groupe interprofessionnel",
            "Agents de développement local et travailleurs sociaux croisent leurs diagnostics dans un "
            "groupe interprofessionnel : action sociale et développement local travaillent ensemble, "
            "décloisonnent leurs pratiques et montent des projets communs.",
        ),
        (
            "Tiers-lieu et permanences sociales",
            "Le tiers-lieu accueille le coworking, le fablab et les permanences sociales du Département : "
            "développement économique et action sociale partagent le même lieu, entre entrepreneurs et "
            "ménages qui viennent faire leurs démarches.",
        ),
        (
            "Diagnostic partagé de territoire",
            "Le diagnostic partagé de territoire réunit élus, CAF, PETR, centre social, entreprises et "
            "habitants : les deux secteurs, social et économique, construisent une vision commune du "
            "territoire et de ses projets.",
        ),
    ],
}


def write_base(folder: Path) -> Path:
    """The labelled Markdown fiches, and a minute as a plain text file without any metadata,
    named to be read first (its sector must not depend on the order of the files)."""
    folder.mkdir(parents=True, exist_ok=True)
    for sector, documents in LABELLED.items():
        for number, (title, text) in enumerate(documents):
            front = {
                "title": title,
                "doc_type": "fiche expérience",
                "sector": sector,
                "themes": ["test"],
                "territory": "Haute-Loire",
            }
            header = yaml.safe_dump(front, allow_unicode=True)
            (folder / f"fiche-{sector[:6]}-{number}.md").write_text(f"---\n{header}---\n{text}\n", encoding="utf-8")
    (folder / "a-compte-rendu-ccas.txt").write_text(CCAS_MINUTE, encoding="utf-8")
    return folder


def make_ingestor(settings: Settings) -> Ingestor:
    return Ingestor(KnowledgeIndex(settings, ToyEmbedder(), {"chunker": "test"}), settings)


def test_a_file_without_metadata_gets_an_inferred_sector(settings, tmp_path):
    folder = write_base(tmp_path / "base")
    ingestor = make_ingestor(settings)
    report = ingestor.ingest_paths([folder])
    assert report.failed == [] and len(report.added) == 10
    meta = ingestor.index.get("a-compte-rendu-ccas").metadata
    assert meta.sector == "action sociale"
    assert meta.territory == "Tence (Haute-Loire)"
    assert "personnes âgées" in meta.publics and "allocataires du RSA" in meta.publics
    assert meta.extra["inferred"] == {"sector": FROM_TEXT, "territory": FROM_TEXT, "publics": FROM_TEXT}
    # the labelled documents keep their own sector, unmarked
    labelled = ingestor.index.get("fiche-develo-0").metadata
    assert labelled.sector == "développement local" and labelled.inferred("sector") is None
    assert labelled.territory == "Haute-Loire" and labelled.inferred("territory") is None


def test_a_sidecar_sector_is_never_inferred(settings, tmp_path):
    folder = write_base(tmp_path / "base")
    (folder / "a-compte-rendu-ccas.txt.meta.yaml").write_text("secteur: transversal\n", encoding="utf-8")
    ingestor = make_ingestor(settings)
    assert ingestor.ingest_paths([folder]).failed == []
    meta = ingestor.index.get("a-compte-rendu-ccas").metadata
    assert meta.sector == "transversal" and meta.inferred("sector") is None
    assert meta.inferred("territory") == FROM_TEXT  # what the sidecar does not give is still inferred


def test_inference_is_the_same_when_the_file_comes_alone_later(settings, tmp_path):
    """Ingested after the labelled documents (another run), the minute learns from the base's index."""
    folder = write_base(tmp_path / "base")
    minute = folder / "a-compte-rendu-ccas.txt"
    later = tmp_path / "later"
    later.mkdir()
    minute.rename(later / minute.name)
    ingestor = make_ingestor(settings)
    assert ingestor.ingest_paths([folder]).failed == []
    ingestor.index.close()
    fresh = make_ingestor(settings)  # a new process: the classifier is rebuilt from the index
    assert fresh.ingest_paths([later]).added == ["a-compte-rendu-ccas"]
    meta = fresh.index.get("a-compte-rendu-ccas").metadata
    assert (meta.sector, meta.inferred("sector")) == ("action sociale", FROM_TEXT)
