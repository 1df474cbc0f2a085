"""Response models: what ``/openapi.json`` says each route returns, errors included."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator


class ProblemOut(BaseModel):
    field: str | None = Field(None, description="Le champ ou paramètre concerné.")
    message: str = Field(..., description="Le problème, en français.")


class DuplicateWarning(BaseModel):
    doc_id: str
    title: str
    similarity: float = Field(
        ..., description="Le chiffre sur lequel repose l'avertissement (0 à 1), celui que cite `explanation`."
    )
    title_similarity: float = Field(..., description="Mots du titre en commun (Jaccard).")
    semantic_similarity: float = Field(
        ...,
        description="Sens commun : moyenne, sur les passages du nouveau document, de leur meilleure similarité dans le document existant.",
    )
    text_similarity: float = Field(0.0, description="Passages de 5 mots en commun (Jaccard).")
    shared_figures: float = Field(
        0.0, description="Chiffres en commun : part des chiffres des deux documents qu'ils partagent (Jaccard)."
    )
    reasons: list[str]
    strong: bool = Field(
        False, description="Doublon probable (décision calibrée) : la publication demande un choix du coordinateur."
    )
    strength: Literal["réécriture probable", "proche"] = Field(
        "proche",
        description="Force de l'avertissement : `réécriture probable` (même chose que `strong`, à traiter "
        "avant de publier) ou `proche` (un document voisin, pour information).",
    )
    explanation: str = Field("", description="Une phrase qui dit pourquoi ce document est signalé.")

    @model_validator(mode="before")
    @classmethod
    def _strength_of_older_warnings(cls, data: Any) -> Any:
        # warnings stored with a proposal before `strength` existed say it through `strong`
        if isinstance(data, dict) and "strength" not in data:
            data = {**data, "strength": "réécriture probable" if data.get("strong") else "proche"}
        return data


class ErrorBody(BaseModel):
    """Every error response: a French sentence and, for invalid input, the problems one by one."""

    detail: str = Field(..., description="Le message d'erreur, en français.")
    problems: list[ProblemOut] = Field(default_factory=list)
    conflict: Literal["identifiant", "doublon"] | None = Field(
        None,
        description="Pour un conflit (409) : `identifiant` (l'identifiant est déjà pris : mettre à jour le "
        "document existant ou changer d'identifiant) ou `doublon` (un document très proche est déjà publié).",
    )
    duplicates: list[DuplicateWarning] | None = Field(
        None, description="Pour un doublon (409, `conflict` vaut `doublon`) : les documents publiés très proches."
    )


_ERROR_TEXTS = {
    400: "Formulaire ou requête mal formé.",
    401: "Clé d'accès manquante, invalide ou révoquée.",
    403: "Action réservée à la coordination.",
    404: "Document introuvable.",
    409: "Conflit : l'identifiant est déjà pris (`conflict` : `identifiant`), un document très proche est "
    "déjà publié (`doublon`), ou la proposition n'est pas dans un état qui permet cette action.",
    413: "Fichier ou requête trop volumineux.",
    415: "Format de requête non pris en charge.",
    429: "Trop de requêtes : réessayez après le délai indiqué par l'en-tête Retry-After.",
    422: "Requête ou document invalide : la liste des problèmes, champ par champ.",
    503: "Service momentanément indisponible (stockage ou index injoignable, dossier de données en lecture seule).",
    507: "Espace disque insuffisant dans le dossier de données : rien n'a été enregistré.",
}


Responses = dict[int | str, dict[str, Any]]  # a route's ``responses``, by status


def errors(*codes: int) -> Responses:
    """The ``responses`` of a route for the error statuses it may answer."""
    return {code: {"model": ErrorBody, "description": _ERROR_TEXTS[code]} for code in codes}


class CalibrationState(BaseModel):
    source: str = Field(
        ...,
        description="D'où viennent les seuils d'abstention : `réglage` (KB_…), `index` (`kb calibrate`), "
        "`intégrée` (livrée pour ce modèle) ou `absente` (aucun seuil : réponses « pas sûr », listes sans plancher).",
    )
    model: str = Field(..., description="Le modèle d'embeddings de l'index.")
    reranker: str | None = Field(None, description="Le reranker en service, s'il y en a un.")
    date: str | None = Field(None, description="Date de la calibration utilisée.")
    questions: str | None = Field(None, description="Le fichier de questions sur lequel elle a été ajustée.")
    overrides: list[str] = Field(default_factory=list, description="Les valeurs fixées par un réglage KB_.")
    missing: list[str] = Field(default_factory=list, description="Les valeurs sans calibration.")
    message: str = Field(..., description="La même chose en une phrase.")


class Health(BaseModel):
    status: str = Field(..., description="`ok` quand tout répond, `dégradé` sinon (réponse 503).")
    documents: int | None = None
    backends: dict[str, str] = Field(..., description="L'état de chaque composant : `ok` ou le problème.")
    detail: str | None = Field(None, description="Quand la base n'a pas pu être ouverte : pourquoi.")
    calibration: CalibrationState | None = Field(
        None, description="Les seuils d'abstention en service pour le modèle de l'index (docs/calibration.md)."
    )


class Stats(BaseModel):
    model_config = ConfigDict(extra="allow")

    documents: int
    chunks: int
    embedding_model: str
    dimension: int
    generation: str
    vector_store: str
    vectors: int
    index_path: str | None = None
    by_type: dict[str, int]
    by_sector: dict[str, int]


class Vocabulary(BaseModel):
    doc_types: list[str] = Field(..., description="Types de document proposés.")
    sectors: list[str] = Field(..., description="Secteurs.")
    other_sector: dict[str, str] = Field(..., description="L'autre secteur de chacun des deux secteurs.")
    themes: list[str] = Field(..., description="Thèmes des documents de la base.")
    territories: list[str] = Field(..., description="Territoires des documents de la base.")
    theme_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Comment afficher les thèmes qui ont des majuscules (sigles, noms propres du glossaire) : "
        "« caf » → « CAF ».",
    )
    required_fields: list[str] = Field(
        ..., description="Les champs obligatoires d'un document ajouté (fiche ou fichier)."
    )


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    doc_type: str
    sector: str | None = None
    url: str = Field(..., description="La page du document sur ce site (`/fiches/{doc_id}`).")
    source_url: str | None = Field(None, description="La page d'origine du document, quand elle est connue.")
    source: str | None = Field(None, description="Le nom du fichier source.")
    score: float | None = None


class SearchPassage(BaseModel):
    text: str
    snippet: str
    highlights: list[list[int]] = Field(..., description="Positions `[début, fin]` des termes trouvés dans `snippet`.")
    section: str
    page: int | None = None
    url: str = Field(..., description="La page du document, ouverte à ce passage.")


class OtherVersion(BaseModel):
    """Une autre version du même document (déclarée par le champ `replaces` d'une des versions)."""

    doc_id: str
    title: str
    date: str | None = None
    url: str = Field(..., description="La page de cette version sur ce site (`/fiches/{doc_id}`).")


_OTHER_VERSIONS = (
    "Les autres versions du document, la plus récente d'abord : les versions d'un même document "
    "forment un seul résultat, présenté par sa version la plus récente."
)


_CORRECTED_QUERY = (
    "La question cherchée à la place de celle écrite, ses mots mal orthographiés corrigés d'après les "
    "mots de la base (« tranport solidaire » : « transport solidaire ») ; `null` quand rien n'a été corrigé."
)


class RerankState(BaseModel):
    """Ce que le reclassement (KB_RERANK_URL ou KB_RERANK_MODEL_PATH) a fait pour cette requête."""

    applied: bool = Field(..., description="Vrai quand les premiers documents ont été reclassés par le modèle.")
    fallback: bool = Field(
        ..., description="Vrai quand le reclassement a échoué : l'ordre habituel de la recherche est gardé."
    )
    message: str | None = Field(None, description="Pourquoi le reclassement a échoué, en une phrase.")


_RERANK = "Le reclassement de cette requête ; `null` quand aucun modèle de reclassement n'est configuré."


class SearchResult(DocumentSummary):
    score: float
    passages: list[SearchPassage]
    other_versions: list[OtherVersion] = Field(default_factory=list, description=_OTHER_VERSIONS)


class AreaFacet(BaseModel):
    code: str = Field(..., description="Le code officiel (« 43 », « 2A », « 84 »), accepté par le filtre.")
    name: str = Field(..., description="Le nom officiel (« Haute-Loire »).")
    count: int = Field(..., description="Les documents listés situés dedans : ce que ce filtre garderait.")


class AreaFacets(BaseModel):
    """Les documents listés par département et par région (un document de « Drôme et Ardèche »
    compte dans les deux ; une fiche d'Yssingeaux en Haute-Loire et en Auvergne-Rhône-Alpes)."""

    departements: list[AreaFacet]
    regions: list[AreaFacet]


class SearchResponse(BaseModel):
    results: list[SearchResult]
    facets: AreaFacets | None = Field(None, description="Les documents listés par département et par région.")
    confident: bool = Field(
        True,
        description="Faux quand aucun document ne répond sûrement : `results` donne alors les documents "
        "les plus proches, à vérifier (vide seulement si aucun mot de la question n'existe dans la base).",
    )
    corrected_query: str | None = Field(None, description=_CORRECTED_QUERY)
    rerank: RerankState | None = Field(None, description=_RERANK)


class Citation(BaseModel):
    n: int
    doc_id: str
    title: str
    url: str = Field(..., description="La page du document, ouverte au passage cité.")
    source_url: str | None = None
    source: str | None = None
    section: str
    page: int | None = None
    quote: str = Field(..., description="Le passage d'où vient la phrase citée.")


class Contact(BaseModel):
    name: str
    doc_id: str | None = None
    territory: str | None = None
    contact: str | None = None
    reason: str


class CitedText(BaseModel):
    text: str = Field(..., description="Une phrase (ou un chiffre clé) copiée du document.")
    n: int = Field(..., description="Le numéro de sa citation dans `citations`.")


class AnswerSource(DocumentSummary):
    """Un document qui répond, tel que la réponse le présente."""

    territory: str | None = None
    porteur: str | None = None
    year: str | None = None
    sentences: list[CitedText] = Field(..., description="Les 1 à 3 phrases du document qui répondent le mieux.")
    figures: list[CitedText] = Field(
        ..., description="Ses chiffres clés quand la question porte sur l'argent, les personnes ou le temps."
    )
    steps: list[CitedText] = Field(
        default_factory=list,
        description="Les étapes de sa méthode, dans l'ordre (8 au plus, chacune sa première phrase), quand la "
        "question demande comment faire ; sur le premier bloc qui en a, après une phrase de contexte.",
    )
    contact: Contact | None = Field(None, description="Comment joindre son porteur.")
    other_versions: list[OtherVersion] = Field(default_factory=list, description=_OTHER_VERSIONS)


class AnswerMode(BaseModel):
    """Who wrote the answer of /ask (and of the final event of /ask/stream)."""

    mode: Literal["extractive", "llm"] = Field(
        ...,
        description="`extractive` : la réponse est faite des phrases des documents ; `llm` : un "
        "modèle de langage l'a rédigée à partir des mêmes passages, chaque phrase citant sa source `[n]`.",
    )


class AskResponse(AnswerMode):
    found: bool
    uncertain: bool = Field(
        False,
        description="Vrai quand la base contient peut-être la réponse sans que ce soit sûr (`found` est alors faux).",
    )
    answer: str = Field(
        ...,
        description="La réponse en texte : une phrase qui dit ce qui a été trouvé, puis un bloc par source ; chaque phrase est suivie de sa source `[n]`.",
    )
    sources: list[AnswerSource] = Field(
        ..., description="Les blocs de la réponse, un par document, dans l'ordre du classement."
    )
    summary: list[CitedText] = Field(
        default_factory=list,
        description="La réponse courte, à lire d'abord : deux ou trois phrases citées par les blocs (celles du "
        "premier, puis la première de chacun des suivants), chacune avec le numéro `n` de sa citation. Absente "
        "quand `found` est faux.",
    )
    citations: list[Citation]
    contacts: list[Contact]
    other_sector: list[DocumentSummary]
    nearest: list[DocumentSummary] | None = Field(
        None, description="Quand `found` est faux : les documents les plus proches (3 au plus), à vérifier."
    )
    corrected_query: str | None = Field(None, description=_CORRECTED_QUERY)
    rerank: RerankState | None = Field(None, description=_RERANK)
    facets: AreaFacets | None = Field(
        None, description="Les documents de la réponse (`sources`, sinon `nearest`) par département et par région."
    )
    passerelles_url: str | None = Field(
        None,
        description="La page du site qui montre côte à côte ce que font l'action sociale et le développement "
        "local sur ce sujet (la question, et le territoire filtré).",
    )


class DocumentListItem(DocumentSummary):
    themes: list[str]
    territory: str | None = None
    date: str | None = None
    porteur: str | None = None


class DocumentPage(BaseModel):
    total: int
    offset: int
    limit: int
    documents: list[DocumentListItem]


class DocumentDetail(BaseModel):
    doc_id: str
    title: str
    doc_type: str
    sector: str | None = None
    themes: list[str]
    territory: str | None = None
    date: str | None = None
    porteur: str | None = None
    publics: list[str] = Field(
        default_factory=list,
        description="Les publics concernés (jeunes, familles, personnes âgées…), écrits ou déduits du "
        "texte ; ce qui a été déduit est nommé dans `extra.inferred`.",
    )
    source_url: str | None = None
    source: str | None = Field(None, description="Le nom du fichier source.")
    content_hash: str
    replaces: list[str] = Field(
        default_factory=list,
        description="Les identifiants des documents dont celui-ci est une version plus récente (champ `replaces`).",
    )
    extra: dict[str, Any]
    version: str
    chunks: int
    indexed_at: str
    text: str | None = None


class WriteResult(BaseModel):
    doc_id: str
    title: str
    doc_type: str
    sector: str | None = None
    chunks: int
    duplicates: list[DuplicateWarning]
    stored: bool
    status: str | None = Field(
        None,
        description="`created` ou `replaced` (publié par la coordination), `proposé` (proposition d'une "
        "contributrice, en attente de relecture, réponse 202), `publié` (proposition publiée).",
    )
    dry_run: bool | None = None
    valid: bool | None = None


class Deleted(BaseModel):
    doc_id: str
    status: str


class MetadataEdited(WriteResult):
    fields: list[str] = Field(..., description="Les champs dont la valeur a changé.")


class MetadataEdit(BaseModel):
    """Les métadonnées à changer (les autres restent) ; `null` retire un champ facultatif."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, description="Titre (5 à 200 caractères).")
    doc_type: str | None = Field(None, description="Type de document (voir `GET /vocabulary`).")
    sector: str | None = Field(None, description="Secteur (voir `GET /vocabulary`).")
    themes: list[str] | None = Field(None, description="Thèmes (1 à 10).")
    territory: str | None = Field(None, description="Territoire.")
    porteur: str | None = Field(None, description="Porteur du projet.")
    partners: list[str] | None = Field(None, description="Partenaires.")
    date: str | None = Field(None, description="Date (AAAA-MM-JJ, AAAA-MM ou AAAA).")
    source_url: str | None = Field(None, description="Adresse de la page d'origine (http:// ou https://).")
    summary: str | None = Field(None, description="Résumé d'une fiche (section « En bref »), 40 à 3 000 caractères.")


class HistoryEntry(BaseModel):
    at: str = Field(..., description="Date et heure (UTC, ISO 8601).")
    actor: str = Field(..., description="Le nom de la clé qui a agi.")
    action: str = Field(..., description="`ajout`, `remplacement`, `modification` ou `suppression`.")
    details: dict[str, Any] = Field(
        ...,
        description="Le reste de l'entrée : version, titre ; pour une modification, `fields` et `changes` (avant → après).",
    )
    summary: str = Field(
        "", description="L'entrée en une phrase, les champs nommés en français (« titre », « thèmes »…)."
    )


class History(BaseModel):
    doc_id: str
    entries: list[HistoryEntry] = Field(..., description="Les entrées du journal, la plus récente d'abord.")


ProposalStatus = Literal["proposé", "à revoir", "rejeté"]


class CatalogueEntry(BaseModel):
    """What every row of the proposal lists and of the catalogue says of a document."""

    doc_id: str
    title: str
    doc_type: str
    sector: str | None = None
    territory: str | None = None
    date: str | None = None


class Proposal(CatalogueEntry):
    """Une proposition : un document soumis par une contributrice, hors de la base publique."""

    status: ProposalStatus
    submitted_by: str = Field(..., description="Le nom de la clé qui l'a proposée.")
    submitted_at: str
    updated_at: str
    comment: str | None = Field(None, description="Le dernier commentaire de la coordination.")
    replace: bool = Field(..., description="Vrai pour la mise à jour d'un document déjà publié.")
    duplicates: list[DuplicateWarning] = Field(..., description="Les doublons trouvés à la proposition.")
    last_change: LastChange | None = Field(
        None,
        description="Le dernier événement du journal (qui, quoi, quand) : une demande de la coordination y est à son nom.",
    )


class ProposalPage(BaseModel):
    total: int
    offset: int
    limit: int
    documents: list[Proposal]


class DocumentsOrProposals(BaseModel):
    """GET /documents: the documents of the base, or with a proposal ``status``, proposals."""

    total: int
    offset: int
    limit: int
    documents: list[DocumentListItem | Proposal]


class ProposalDetail(Proposal):
    porteur: str | None = None
    themes: list[str]
    text: str = Field(..., description="Le texte extrait du document proposé.")


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duplicate_reason: str | None = Field(
        None, min_length=1, max_length=500, description="Publier malgré un doublon probable : pourquoi."
    )


class ChangesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(..., min_length=1, max_length=2000, description="Ce qu'il faut revoir.")


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(None, max_length=2000, description="Pourquoi la proposition est rejetée.")


class LastChange(BaseModel):
    at: str
    actor: str | None = Field(None, description="Le nom de la clé, absent pour une indexation en ligne de commande.")
    action: str | None = None


class CatalogueRow(CatalogueEntry):
    porteur: str | None = None
    status: Literal["publié", "proposé", "à revoir", "rejeté"]
    proposal_status: ProposalStatus | None = Field(
        None, description="Pour un document publié : l'état d'une mise à jour proposée, s'il y en a une."
    )
    last_change: LastChange


class CataloguePage(BaseModel):
    total: int
    offset: int
    limit: int
    documents: list[CatalogueRow]


# -- what practitioners ask (question log, feedback, dashboard) --------------------------------


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        ..., min_length=1, max_length=1000, description="La question à laquelle la réponse répondait."
    )
    useful: StrictBool = Field(..., description="La réponse a-t-elle aidé ?")
    comment: str | None = Field(
        None, max_length=1000, description="Un commentaire facultatif (1000 caractères au plus)."
    )
    doc_ids: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=10, description="Les documents de la réponse (10 au plus)."
    )


class FeedbackAck(BaseModel):
    status: Literal["enregistré", "ignoré"] = Field(
        ..., description="`enregistré`, ou `ignoré` quand le journal des questions est désactivé."
    )


class FrequentQuestion(BaseModel):
    question: str = Field(..., description="La formulation la plus fréquente.")
    count: int
    found_ratio: float = Field(..., description="Part des fois où la base a répondu.")
    last_at: str


class UnansweredGroup(BaseModel):
    representative: str = Field(..., description="La question la plus posée du groupe.")
    count: int = Field(..., description="Nombre de fois où les questions du groupe ont été posées.")
    first_at: str
    last_at: str
    questions: list[str] = Field(..., description="Jusqu'à cinq formulations du groupe.")


class NotUsefulAnswer(BaseModel):
    question: str
    comment: str | None = None
    at: str
    doc_ids: list[str]


class WeekVolume(BaseModel):
    week: str = Field(..., description="Semaine ISO, par exemple 2026-W48.")
    questions: int
    unanswered: int


class Coverage(BaseModel):
    themes: list[str]
    sectors: list[str]
    counts: dict[str, dict[str, int]] = Field(..., description="Documents publiés par thème puis par secteur.")


class QuestionsDashboard(BaseModel):
    log_enabled: bool = Field(
        ..., description="Faux quand le journal des questions est désactivé (KB_QUERY_LOG=false)."
    )
    since: str
    until: str
    total: int
    answered_ratio: float | None = Field(None, description="Part des questions auxquelles la base a répondu.")
    frequent: list[FrequentQuestion]
    unanswered_groups: list[UnansweredGroup]
    not_useful: list[NotUsefulAnswer]
    weekly: list[WeekVolume]
    coverage: Coverage


def _event(name: str, description: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data},
        },
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


# One event of POST /ask/stream (OpenAPI 3.1: the schema of an event stream describes each event).
ASK_STREAM_EVENT: dict[str, Any] = {
    "oneOf": [
        _event(
            "sources",
            "Avec un modèle de langage, en premier : les sources et les citations de la réponse.",
            {
                "type": "object",
                "required": ["sources", "citations"],
                "properties": {"sources": {"type": "array"}, "citations": {"type": "array", "items": _ref(Citation)}},
            },
        ),
        _event(
            "delta",
            "Avec un modèle de langage : la suite du texte, au fil de sa rédaction.",
            {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
        ),
        _event(
            "answer",
            "La réponse finale vérifiée, comme celle de `POST /ask` : elle remplace le texte des `delta`.",
            _ref(AskResponse),
        ),
        _event("end", "La fin du flux.", {"type": "object", "maxProperties": 0}),
    ]
}


class PartnerOut(BaseModel):
    origin: str = Field(..., description="L'origine du site (https://hôte[:port]).")
    name: str = Field(..., description="Le nom du site ou de la structure.")
    added_at: str = Field(..., description="Date d'ajout (ISO 8601, UTC).")
    added_by: str = Field(..., description="Le nom de la clé qui l'a ajouté.")


class PartnerList(BaseModel):
    base: list[str] = Field(
        ..., description="La liste de base (KB_ALLOWED_ORIGINS, configuration du serveur) : non modifiable ici."
    )
    partners: list[PartnerOut] = Field(..., description="Les sites partenaires ajoutés par la coordination.")


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    origin: str = Field(..., max_length=300, description="L'adresse du site : https://hôte[:port], sans chemin.")
    name: str = Field(..., max_length=200, description="Le nom du site ou de la structure.")
