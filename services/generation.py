"""Optional generation: an LLM rewrites the extractive answer from the passages it cites.

The LLM (any OpenAI-compatible API, ``KB_LLM_URL``) gets the question and the numbered passages
of the extractive answer's citations, and is asked for a short French answer citing them as
``[n]``. Its text is then checked sentence by sentence: a sentence that cites nothing, or cites
a number the citations do not have, is dropped. When nothing cited remains, or on any failure
(timeout, connection refused, HTTP error, malformed response), the extractive answer is returned
unchanged, and the log says why. An abstention (``found`` false) never reaches the LLM.

Nothing here knows llama-index: the client is built by ``services.llama_adapter`` (imported
only when an LLM is configured) and seen through the small ``ChatClient`` protocol.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex

logger = logging.getLogger("passerelles.generation")

SYSTEM_PROMPT = (
    "Tu es l'assistant de Passerelles, la base de connaissances des acteurs du développement "
    "rural et de l'action sociale. Réponds à la question en français, en quelques phrases "
    "courtes (cinq au plus), en t'appuyant uniquement sur les passages numérotés fournis. "
    "Termine chaque phrase par le numéro du passage qui la justifie, entre crochets, par "
    "exemple [1] ou [1][3]. N'utilise aucun autre numéro que ceux des passages, n'ajoute aucune "
    "information qu'ils ne contiennent pas, et n'écris ni titre, ni liste de sources, ni phrase "
    "sans numéro."
)
QUOTE_CHARS = 1500  # a citation's quote is cut to this length in the prompt

Event = tuple[str, dict[str, Any]]


class ChatClient(Protocol):
    """What generation needs from an LLM: a whole answer, or its text piece by piece."""

    def answer(self, system: str, user: str) -> str: ...

    def stream(self, system: str, user: str) -> AsyncIterator[str]: ...


# -- the prompt -----------------------------------------------------------------------------


def build_prompt(question: str, extractive: dict) -> tuple[str, str]:
    """The system and user messages: the question and the numbered passages of the citations."""
    passages = []
    for citation in extractive.get("citations", []):
        where = ", ".join(
            part
            for part in (citation.get("section") or "", f"page {citation['page']}" if citation.get("page") else "")
            if part
        )
        heading = f"[{citation['n']}] « {citation.get('title', '')} »" + (f" ({where})" if where else "")
        quote = " ".join(str(citation.get("quote", "")).split())
        if len(quote) > QUOTE_CHARS:
            quote = quote[:QUOTE_CHARS].rsplit(" ", 1)[0] + " […]"
        passages.append(f"{heading}\n{quote}")
    user = f"Question : {question.strip()}\n\nPassages :\n\n" + "\n\n".join(passages)
    return SYSTEM_PROMPT, user


# -- checking the markers -------------------------------------------------------------------

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
# A sentence ends with . ! ? or … (and the markers that follow it), before a space or the end.
_END = re.compile(r"[.!?…]+(?:[ \t]*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])*(?=\s|$)")
# Words whose period does not end a sentence ("M. Dupont", "p. 3", "cf. la fiche").
_ABBREVIATIONS = {
    "m",
    "mme",
    "mmes",
    "mm",
    "mlle",
    "dr",
    "p",
    "pp",
    "cf",
    "ex",
    "env",
    "art",
    "n°",
    "no",
    "vol",
    "chap",
    "av",
    "bd",
    "st",
    "ste",
}
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)


def split_sentences(text: str) -> list[list[str]]:
    """The text's sentences, line by line (an empty line between paragraphs is kept as an empty
    list); markers written after the final period stay with their sentence."""
    lines: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            if lines and lines[-1]:
                lines.append([])
            continue
        sentences, start = [], 0
        for match in _END.finditer(line):
            word = re.findall(r"[\w°]+$", line[start : match.start()])
            if (
                match.group().startswith(".")
                and word
                and (word[0].lower() in _ABBREVIATIONS or (len(word[0]) == 1 and word[0].isupper()))
            ):
                continue
            sentences.append(line[start : match.end()].strip())
            start = match.end()
        if line[start:].strip():
            sentences.append(line[start:].strip())
        lines.append(sentences)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def cited_numbers(sentence: str) -> list[int]:
    return [int(n) for group in _MARKER.findall(sentence) for n in re.split(r"\s*[,;]\s*", group.strip())]


def check_markers(text: str, numbers: set[int]) -> tuple[str, int]:
    """The text with only its sentences that cite existing passages (markers written ``[n]``),
    and how many sentences were dropped."""
    text = _THINKING.sub("", text)
    kept_lines: list[str] = []
    dropped = 0
    for sentences in split_sentences(text):
        if not sentences:
            if kept_lines and kept_lines[-1]:
                kept_lines.append("")
            continue
        kept = []
        for sentence in sentences:
            cited = cited_numbers(sentence)
            if cited and all(n in numbers for n in cited):
                kept.append(_MARKER.sub(lambda m: "".join(f"[{n}]" for n in cited_numbers(m.group())), sentence))
            else:
                dropped += 1
        if kept:
            kept_lines.append(" ".join(kept))
    while kept_lines and not kept_lines[-1]:
        kept_lines.pop()
    return "\n".join(kept_lines).replace("\n\n\n", "\n\n"), dropped


# -- generation -----------------------------------------------------------------------------


@dataclass
class Generator:
    """Writes answers with the configured LLM, or keeps the extractive one."""

    client: ChatClient
    timeout_s: float

    @classmethod
    def from_settings(cls, settings: Settings, index: KnowledgeIndex | None = None) -> Generator | None:
        """The generator of ``KB_LLM_URL``, or None when no LLM is configured. Builds the client
        (no request is made here)."""
        if not settings.llm_url.strip():
            return None
        from services.llama_adapter import create_chat_client  # llama-index only when needed

        return cls(create_chat_client(settings, index), settings.llm_timeout_s)

    def generate(self, question: str, extractive: dict) -> dict:
        """The answer written by the LLM (``mode`` llm), or ``extractive`` unchanged."""
        if not _answers(extractive):
            return extractive
        system, user = build_prompt(question, extractive)
        started = time.monotonic()
        try:
            text = self.client.answer(system, user)
        except Exception as exc:  # timeout, refused connection, HTTP error, malformed response
            logger.warning(
                "LLM : réponse extractive gardée (%s après %.1f s)", _reason(exc), time.monotonic() - started
            )
            return extractive
        return self._checked(extractive, text)

    async def events(self, question: str, extractive: dict) -> AsyncIterator[Event]:
        """``sources``, the ``delta`` events as the LLM writes, the checked ``answer`` (or the
        extractive one when generation fails), ``end``. Without evidence: ``answer``, ``end``."""
        if not _answers(extractive):
            yield "answer", extractive
            yield "end", {}
            return
        yield "sources", {"sources": extractive.get("sources", []), "citations": extractive.get("citations", [])}
        system, user = build_prompt(question, extractive)
        pieces: list[str] = []
        final = extractive
        started = time.monotonic()
        stream = self.client.stream(system, user)
        try:
            while True:
                try:
                    # each wait is bounded here too, whatever the HTTP client does (in this
                    # task: the stream's connection must not change tasks)
                    async with asyncio.timeout(self.timeout_s):
                        piece = await anext(stream)
                except StopAsyncIteration:
                    break
                if piece:
                    pieces.append(piece)
                    yield "delta", {"text": piece}
            final = self._checked(extractive, "".join(pieces))
        except Exception as exc:
            logger.warning(
                "LLM : réponse extractive gardée (%s après %.1f s)", _reason(exc), time.monotonic() - started
            )
        finally:
            await _close(stream)
        yield "answer", final
        yield "end", {}

    def _checked(self, extractive: dict, text: str) -> dict:
        numbers = {int(c["n"]) for c in extractive.get("citations", [])}
        checked, dropped = check_markers(text or "", numbers)
        if not checked:
            logger.warning(
                "LLM : réponse extractive gardée (aucune phrase ne cite un passage existant ; %d écartées)", dropped
            )
            return extractive
        if dropped:
            logger.info("LLM : %d phrase(s) écartée(s), sans source ou citant un passage inexistant", dropped)
        return {**extractive, "answer": checked, "mode": "llm"}


def _answers(extractive: dict) -> bool:
    """Only an answer with evidence and passages to cite goes to the LLM."""
    return bool(extractive.get("found") and extractive.get("citations"))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) or "timeout" in type(exc).__name__.lower():
        return "délai dépassé"
    return f"{type(exc).__name__} : {exc}"[:300]


async def _close(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:  # a stream broken by a timeout may fail to close: nothing to keep
            pass
