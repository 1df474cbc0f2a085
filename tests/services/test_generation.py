"""Generation through a real OpenAI-compatible process (tests/llm_stub.py): the checked answer,
and the extractive answer kept whenever the LLM's text or the LLM itself fails."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kb.core.settings import Settings
from services import runtime
from services.generation import Generator, build_prompt, check_markers, split_sentences
from tests.apps import copy_index
from tests.llm_stub import GOOD, INVENTED, UNCITED
from tests.servers import free_port

ROOT = Path(__file__).parents[2]
QUESTION = "comment d'autres ont monté un transport solidaire avec des chauffeurs bénévoles ?"


# -- checking the markers (no LLM) ------------------------------------------------------------


def test_sentences_keep_their_markers_and_abbreviations():
    text = "Selon M. Dupont, cela marche [1]. Voir p. 3 [2]! Puis [1, 2]\n\n- Une liste [3]. Fin"
    assert split_sentences(text) == [
        ["Selon M. Dupont, cela marche [1].", "Voir p. 3 [2]!", "Puis [1, 2]"],
        [],
        ["- Une liste [3].", "Fin"],
    ]
    assert split_sentences("Les trajets sont réservés la veille. [1] Le chauffeur est indemnisé. [2]") == [
        ["Les trajets sont réservés la veille. [1]", "Le chauffeur est indemnisé. [2]"]
    ]


def test_only_sentences_citing_existing_passages_are_kept():
    text = "Premier fait [1]. Fait inventé [9]. Sans source. Deux sources [1, 2].\n\nMélange [2][7]. Dernier [2]."
    assert check_markers(text, {1, 2}) == ("Premier fait [1]. Deux sources [1][2].\n\nDernier [2].", 3)
    assert check_markers("Rien de cité. Vraiment rien.", {1}) == ("", 2)
    assert check_markers("<think>je cite [1]</think>Réponse [1].", {1}) == ("Réponse [1].", 0)


def test_the_prompt_numbers_the_cited_passages_in_french():
    extractive = {
        "found": True,
        "citations": [
            {
                "n": 1,
                "title": "Transport solidaire",
                "section": "Étapes",
                "page": None,
                "quote": "Douze   chauffeurs\nbénévoles.",
            },
            {"n": 2, "title": "Épicerie", "section": "", "page": 3, "quote": "x" * 5000},
        ],
    }
    system, user = build_prompt("Comment faire ?", extractive)
    assert "en français" in system and "[1]" in system
    assert user.startswith(
        "Question : Comment faire ?\n\nPassages :\n\n[1] « Transport solidaire » (Étapes)\nDouze chauffeurs bénévoles."
    )
    assert "\n\n[2] « Épicerie » (page 3)\n" in user and len(user) < 2000


# -- through the stub -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory, toy_mini_index):
    """The mini corpus (toy embedder), answering everything (threshold 0), without LLM."""
    from tests.fakes import ToyEmbedder

    settings = Settings(data_dir=tmp_path_factory.mktemp("generation") / "data", answer_min_score=0.0)
    embedder = ToyEmbedder()
    copy_index(toy_mini_index, settings)  # the mini corpus ingested once per session
    kb = runtime.open_knowledge_base(settings, embedder)
    yield kb
    kb.close()


@pytest.fixture(scope="module")
def extractive(base) -> dict:
    answer = base.ask(QUESTION)
    assert answer["found"] and answer["citations"] and answer["mode"] == "extractive"
    return answer


def generator(base, url: str, mode: str, timeout: float = 5.0) -> Generator:
    settings = base.index.settings.model_copy(update={"llm_url": url, "llm_model": mode, "llm_timeout_s": timeout})
    return Generator.from_settings(settings, base.index)


def requests_seen(url: str) -> list[dict]:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/_requests", timeout=5) as response:
        return json.load(response)


def numbers(answer: dict) -> tuple[int, int]:
    cited = [c["n"] for c in answer["citations"]]
    return cited[0], cited[-1]


def test_a_good_answer_is_given_as_written(base, extractive, llm_stub):
    first, last = numbers(extractive)
    answer = generator(base, llm_stub, "bon").generate(QUESTION, extractive)
    assert answer["mode"] == "llm"
    assert answer["answer"] == " ".join(GOOD).format(first=first, last=last)
    assert {k: v for k, v in answer.items() if k not in ("answer", "mode")} == {
        k: v for k, v in extractive.items() if k not in ("answer", "mode")
    }
    request = requests_seen(llm_stub)[-1]
    assert request["model"] == "bon" and not request.get("stream")
    roles = [m["role"] for m in request["messages"]]
    assert roles == ["system", "user"]
    user = request["messages"][1]["content"]
    assert QUESTION in user and f"[{last}] « {extractive['citations'][-1]['title']} »" in user


def test_sentences_with_invented_or_no_markers_are_dropped(base, extractive, llm_stub, caplog):
    first, _ = numbers(extractive)
    with caplog.at_level(logging.INFO, logger="passerelles.generation"):
        answer = generator(base, llm_stub, "mixte").generate(QUESTION, extractive)
    assert answer["mode"] == "llm"
    assert answer["answer"] == GOOD[0].format(first=first)
    assert "[9]" not in answer["answer"] and UNCITED not in answer["answer"]
    assert "2 phrase(s) écartée(s)" in caplog.text


@pytest.mark.parametrize("mode", ["invente", "sans-marqueur", "erreur", "casse"])
def test_nothing_usable_gives_the_extractive_answer(base, extractive, llm_stub, mode, caplog):
    with caplog.at_level(logging.WARNING, logger="passerelles.generation"):
        answer = generator(base, llm_stub, mode).generate(QUESTION, extractive)
    assert answer == extractive and answer["mode"] == "extractive"
    assert "réponse extractive gardée" in caplog.text


def test_a_silent_llm_times_out_to_the_extractive_answer(base, extractive, llm_stub, caplog):
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="passerelles.generation"):
        answer = generator(base, llm_stub, "muet", timeout=1.0).generate(QUESTION, extractive)
    elapsed = time.monotonic() - started
    assert answer == extractive
    assert 0.9 <= elapsed < 4, elapsed
    assert "délai dépassé" in caplog.text


def test_a_refused_connection_gives_the_extractive_answer(base, extractive):
    started = time.monotonic()
    answer = generator(base, f"http://127.0.0.1:{free_port()}/v1", "bon").generate(QUESTION, extractive)
    assert answer == extractive and time.monotonic() - started < 3


def test_an_abstention_never_reaches_the_llm(base, llm_stub):
    before = len(requests_seen(llm_stub))
    nothing = {
        "found": False,
        "mode": "extractive",
        "answer": "La base ne contient pas…",
        "citations": [],
        "nearest": [],
    }
    assert generator(base, llm_stub, "bon").generate(QUESTION, nothing) is nothing
    events = asyncio.run(collect(generator(base, llm_stub, "bon").events(QUESTION, nothing)))
    assert events == [("answer", nothing), ("end", {})]
    assert len(requests_seen(llm_stub)) == before


def test_ask_uses_the_configured_llm(base, llm_stub):
    settings = base.index.settings.model_copy(update={"llm_url": llm_stub, "llm_model": "bon"})
    assert base.generator is None  # no KB_LLM_URL: extractive
    kb = dataclasses.replace(base, generator=Generator.from_settings(settings, base.index))
    assert kb.ask(QUESTION)["mode"] == "llm"
    params = dataclasses.replace(base.answerer.params, min_score=5.0)  # nothing is evidence enough
    kb.answerer = type(base.answerer)(base.retriever, params)
    before = len(requests_seen(llm_stub))
    answer = kb.ask(QUESTION)
    assert answer["found"] is False and answer["mode"] == "extractive"
    assert len(requests_seen(llm_stub)) == before


# -- streaming --------------------------------------------------------------------------------


async def collect(events) -> list[tuple[str, dict]]:
    return [event async for event in events]


def test_streaming_sends_sources_deltas_then_the_checked_answer(base, extractive, llm_stub):
    first, _ = numbers(extractive)
    events = asyncio.run(collect(generator(base, llm_stub, "mixte").events(QUESTION, extractive)))
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-2:] == ["answer", "end"]
    assert set(names[1:-2]) == {"delta"} and len(names) > 6
    assert events[0][1] == {"sources": extractive.get("sources", []), "citations": extractive["citations"]}
    streamed = "".join(payload["text"] for name, payload in events if name == "delta")
    assert INVENTED.format(invented=9) in streamed  # the deltas are the raw text…
    final = events[-2][1]
    assert final["mode"] == "llm" and final["answer"] == GOOD[0].format(first=first)  # …the answer is checked
    assert requests_seen(llm_stub)[-1]["stream"] is True


@pytest.mark.parametrize("mode", ["invente", "erreur", "casse"])
def test_a_failed_stream_ends_with_the_extractive_answer(base, extractive, llm_stub, mode):
    events = asyncio.run(collect(generator(base, llm_stub, mode).events(QUESTION, extractive)))
    assert [name for name, _ in events if name != "delta"] == ["sources", "answer", "end"]
    assert events[-2][1] == extractive


def test_a_silent_stream_times_out(base, extractive, llm_stub):
    started = time.monotonic()
    events = asyncio.run(collect(generator(base, llm_stub, "muet", timeout=1.0).events(QUESTION, extractive)))
    assert [name for name, _ in events] == ["sources", "answer", "end"]
    assert events[1][1] == extractive
    assert time.monotonic() - started < 4


def test_no_llama_index_without_an_llm():
    """llama-index is imported only when KB_LLM_URL is set (it is heavy, and the product
    without LLM does not need it)."""
    code = "import sys, api.app, cli.main; print('llama_index' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
