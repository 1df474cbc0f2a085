from __future__ import annotations

from kb.core.sentences import document_sentences

# As pypdf gives a page: wrapped lines, a double space, a heading, bullets, a hyphenated word,
# an enumeration that goes on after a ";".
PDF_PAGE = """Séance 2 : cartographier qui fait quoi
Groupe, animation et partenaires
Groupe de travail « Action sociale et développement local » de Ressources Rurales AURA, séance 2 du
premier cycle. Animation : Ressources Rurales AURA (chargée de mission Emplois et métiers, chargé de
mission  Pauvreté-précarité). Le service a été créé avec la CC Cœur de Brévenne et la commune de
Saint-Aubin-du-Vernay.
Participants
21 participants, dont la directrice de la micro-crèche Les P'tits Sabots ;
l'encadrant technique des Jardins du Lizon et M. Durand, maire, qui a présenté l'accompa-
gnement des familles.
Ordre du jour
• Tour de table : un doublon, une coopération réussie.
• Suites.
"""


def texts(text: str) -> list[str]:
    return [sentence.text for sentence in document_sentences(text)]


def test_wrapped_lines_are_joined_and_headings_stand_alone():
    found = texts(PDF_PAGE)
    assert "Groupe, animation et partenaires" in found
    assert (
        "Groupe de travail « Action sociale et développement local » de Ressources Rurales AURA, séance 2 du premier cycle."
        in found
    )
    # a capital after a full line is a wrap (a place name), not a new paragraph
    assert "Le service a été créé avec la CC Cœur de Brévenne et la commune de Saint-Aubin-du-Vernay." in found
    assert "Participants" in found


def test_enumeration_after_semicolon_and_hyphenation_are_joined():
    found = texts(PDF_PAGE)
    sentence = next(s for s in found if s.startswith("21 participants"))
    assert "Sabots ; l'encadrant technique" in sentence
    assert "l'accompagnement des familles." in sentence  # the line-end hyphen is gone
    assert "M. Durand, maire" in sentence  # no cut after an abbreviation


def test_compound_words_keep_their_hyphen_when_written_so_elsewhere():
    text = (
        "La vice-présidente a ouvert la séance. Le projet est porté par la vice-\n"
        "présidente solidarités de la communauté de communes du secteur nord."
    )
    assert (
        texts(text)[1]
        == "Le projet est porté par la vice-présidente solidarités de la communauté de communes du secteur nord."
    )


def test_markdown_items_and_offsets():
    text = "# Titre\n\n## Budget\n\n- **CIAS** : 36 000 €\n- CC du Haut-Vernay : 30 000 €\n\nCoût total : 78 000 €. Financé en 2023."
    sentences = document_sentences(text)
    assert [s.text for s in sentences] == [
        "CIAS : 36 000 €",
        "CC du Haut-Vernay : 30 000 €",
        "Coût total : 78 000 €.",
        "Financé en 2023.",
    ]
    assert [s.item for s in sentences] == [True, True, False, False]
    for sentence in sentences:  # offsets point at the sentence in the original text
        original = text[sentence.start : sentence.end].replace("**", "")
        assert original == sentence.text


def test_initials_do_not_end_a_sentence_but_years_do():
    found = texts("Le plan a été écrit par J. Martin en 2023. Il a été voté.")
    assert found == ["Le plan a été écrit par J. Martin en 2023.", "Il a été voté."]


# qr-financer-poste-animateur-tiers-lieu.txt and fin-departement-insertion-pdi-rsa.pdf as read:
# headings without "#"; the Markdown fiches' headings are "##" lines
PLAIN_TEXT = """Comment financer durablement un poste d'animateur de tiers-lieu ?
===============================================================


LA QUESTION

« Notre association gère un tiers-lieu. Comment financer ce poste dans la durée ? »


CONTEXTE

Le lieu accueille environ 150 personnes par semaine.

Budget et financements
Investissement (2019-2020) : 286 000 €
Contact
Responsable insertion, MDS de Sauvagnat — insertion.sauvagnat@allier-departement.example
"""


def test_each_sentence_knows_the_heading_it_is_under():
    found = {s.text: s for s in document_sentences(PLAIN_TEXT)}
    title = "Comment financer durablement un poste d'animateur de tiers-lieu ?"
    assert found[title].is_heading  # underlined with "="
    assert found["LA QUESTION"].is_heading
    assert found["Comment financer ce poste dans la durée ? »"].heading == "LA QUESTION"
    assert found["Le lieu accueille environ 150 personnes par semaine."].heading == "CONTEXTE"
    # a label and its figure is not a heading
    assert not found["Investissement (2019-2020) : 286 000 €"].is_heading
    assert found["Investissement (2019-2020) : 286 000 €"].heading == "Budget et financements"
    contact = next(s for s in found.values() if s.text.startswith("Responsable insertion"))
    assert contact.heading == "Contact" and not contact.is_heading


def test_markdown_headings_items_paragraphs_and_markers():
    text = "## Étapes\n\n1. **Premier contact** avec le GAL. Présentation de l'idée.\n2. Plan de financement.\n\n## Conseils\n\nVenir tôt."
    sentences = document_sentences(text)
    assert [(s.text, s.heading, s.marker, s.paragraph) for s in sentences] == [
        ("Premier contact avec le GAL.", "Étapes", "1.", 0),
        ("Présentation de l'idée.", "Étapes", "1.", 0),
        ("Plan de financement.", "Étapes", "2.", 1),
        ("Venir tôt.", "Conseils", "", 2),
    ]
    assert not any(s.is_heading for s in sentences)  # "##" headings are not sentences
