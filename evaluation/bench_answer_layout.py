"""The answer's layout, measured in Chromium:
`python -m evaluation.bench_answer_layout [--index-dir DIR] [--label NAME]`.

Ingests the sample corpus (or reuses `--index-dir` when it already holds an index), starts
`kb serve` as its own process and, for a few questions, opens the site's answer page
(`/recherche?q=…&question=1`, 1280 × 800) and asks the widget of `/demo` (360 × 740) with
Debian's Chromium driven by Playwright. Prints, per question and place: the answer section's
height in px, the number of entries under "Sources", and where the first cited sentence ends
(px from the top of the window as the page or the answer opens, i.e. after the widget
has brought its answer into view; under the window's height means it is read without
scrolling, and from the answer section's top). Screenshots of each answer go to `test-artifacts/answer-layout/` (`--label`
prefixes their names, e.g. `before`/`after`). Needs `/usr/bin/chromium` (apt-get install
chromium).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from evaluation.answers import key_fact_coverage, tolerant_key_fact_coverage
from evaluation.bench_api import kb_server
from evaluation.datasets import PROJECT_ROOT, load_questions
from kb.answer.summary import first_block_first, pick, round_robin, short_answer
from kb.core.settings import Settings
from kb.core.text import fold
from services.runtime import ingest, open_knowledge_base

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
QUESTIONS = [
    "comment monter un dossier LEADER",
    "Qui a déjà fait un transport solidaire avec des chauffeurs bénévoles, et combien paie la personne transportée ?",
    "créer une micro-crèche en zone rurale",
    "Comment monter un dossier LEADER sans se faire retoquer des dépenses, et comment tenir la trésorerie ?",
    "élevage de chèvres angora en montagne",  # nothing in the base: "nothing found" and the nearest
]
SITE_VIEWPORT = {"width": 1280, "height": 800}
WIDGET_VIEWPORT = {"width": 360, "height": 740}
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "answer-layout"

# In the page (the site) or the widget's shadow root: the answer section's height, its source
# entries, where its first cited sentence ends (page coordinates) and whether the base answered.
MEASURE = """root => {
  const answer = root.querySelector('section.answer');
  if (!answer) return null;
  const box = answer.getBoundingClientRect();
  const cite = answer.querySelector('.short .cite, .block .cite, .atext .cite');
  const sources = answer.querySelector('.sources');
  const short = answer.querySelector('.short');
  return {
    height: Math.round(box.height),
    sources: sources ? sources.children.length : 0,
    first_cited_bottom: cite ? Math.round(cite.getBoundingClientRect().bottom) : null,
    first_cited_in_answer: cite ? Math.round(cite.getBoundingClientRect().bottom - box.top) : null,
    nearest: answer.querySelectorAll('.nearest li').length,
    short_bottom: short ? Math.round(short.getBoundingClientRect().bottom) : null,
  };
}"""


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in fold(text))[:40].strip("-")


def measure_site(browser, base: str, question: str, label: str) -> dict | None:
    page = browser.new_page(viewport=SITE_VIEWPORT)
    page.goto(f"{base}/recherche?q={quote(question)}&question=1")
    figures = page.evaluate(f"({MEASURE})(document)")
    if figures is not None:
        page.screenshot(path=str(ARTIFACTS / f"{label}site-{_slug(question)}-window.png"))
        page.screenshot(path=str(ARTIFACTS / f"{label}site-{_slug(question)}.png"), full_page=True)
        figures["page_height"] = page.evaluate("document.documentElement.scrollHeight")
    page.close()
    return figures


def measure_widget(browser, base: str, question: str, label: str) -> dict | None:
    page = browser.new_page(viewport=WIDGET_VIEWPORT)
    page.goto(f"{base}/demo")
    page.get_by_role("combobox").first.fill(question)
    page.get_by_role("button", name="Poser la question").click()
    # the answer is rendered when the widget says so (its status line)
    page.locator("#passerelles [role=status]").filter(has_text="Réponse prête.").wait_for(timeout=60_000)
    figures = page.evaluate(f"({MEASURE})(document.querySelector('#passerelles').shadowRoot)")
    page.screenshot(path=str(ARTIFACTS / f"{label}widget-{_slug(question)}-window.png"))
    page.screenshot(path=str(ARTIFACTS / f"{label}widget-{_slug(question)}.png"), full_page=True)
    page.close()
    return figures


def _with_a_figure(sources: list[dict]) -> list[tuple[str, int]]:
    """The first block's sentences first, with its first key figure in second place when it has one."""
    order = first_block_first(sources)
    figures = (sources[0].get("figures") or []) if sources else []
    if figures:
        order.insert(1, (figures[0]["text"], figures[0]["n"]))
    return order


STRATEGIES = {
    "the first block's sentences first (kept)": short_answer,
    "the same, at most 420 characters": lambda sources: pick(first_block_first(sources), max_chars=420),
    "each block's first sentence, block order": lambda sources: pick(round_robin(sources)),
    "a key figure in second place": lambda sources: pick(_with_a_figure(sources)),
    "(every sentence of the digest)": lambda sources: pick(round_robin(sources), 99, 10**9),
}


def compare_choices(data_dir: Path) -> None:
    """Key facts the short answer holds, by way of choosing its sentences, on the questions of
    evaluation/questions.jsonl that carry key facts and are answered."""
    dataset = load_questions(PROJECT_ROOT / "evaluation" / "questions.jsonl", PROJECT_ROOT / "corpus")
    questions = [q for q in dataset.questions if q.key_facts and q.relevant]
    kb = open_knowledge_base(Settings(data_dir=data_dir))
    try:
        answered = [(q, kb.answerer.answer(q.question)) for q in questions]
    finally:
        kb.close()
    answered = [(q, result["sources"]) for q, result in answered if result["found"]]
    print(f"short answer: key facts held, over {len(answered)} answered questions with key facts")
    for name, strategy in STRATEGIES.items():
        tolerant = exact = chars = sentences = 0.0
        for question, sources in answered:
            text = " ".join(s["text"] for s in strategy(sources))
            tolerant += tolerant_key_fact_coverage(text, question.key_facts)
            exact += key_fact_coverage(text, question.key_facts)
            chars += len(text)
            sentences += len(strategy(sources))
        count = len(answered) or 1
        print(
            f"  {name:<42} tolerant {100 * tolerant / count:5.1f} %  exact {100 * exact / count:5.1f} %  "
            f"{sentences / count:.1f} sentences, {chars / count:.0f} characters"
        )


def _cell(figures: dict | None) -> str:
    if figures is None:
        return "no answer section"
    seen, within = figures["first_cited_bottom"], figures["first_cited_in_answer"]
    return (
        f"{figures['height']:>6} px  {figures['sources']:>2} sources  "
        f"first cited sentence ends at {seen if seen is not None else '—':>5} px in the window "
        f"({within if within is not None else '—':>4} px into the answer)"
        + (f"; short answer ends at {figures['short_bottom']} px" if figures["short_bottom"] is not None else "")
        + (f"  nearest {figures['nearest']}" if figures["nearest"] else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=None, help="data directory to build or reuse")
    parser.add_argument("--label", default="", help="prefix of the screenshots' names (e.g. before, after)")
    parser.add_argument("--choice", action="store_true", help="also compare ways of choosing the short answer")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print("Chromium absent (/usr/bin/chromium): apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    label = f"{args.label}-" if args.label else ""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.index_dir or Path(tmp) / "data"
        if not (data_dir.is_dir() and any(data_dir.iterdir())):
            ingest(Settings(data_dir=data_dir), [PROJECT_ROOT / "corpus"])
        if args.choice:
            compare_choices(data_dir)
        with kb_server(data_dir) as (base, _), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            print(
                f"site at {SITE_VIEWPORT['width']} px (viewport height {SITE_VIEWPORT['height']}), "
                f"widget at {WIDGET_VIEWPORT['width']} px (viewport height {WIDGET_VIEWPORT['height']})"
            )
            for question in QUESTIONS:
                site = measure_site(browser, base, question, label)
                widget = measure_widget(browser, base, question, label)
                print(f"« {question} »")
                print(f"  site    {_cell(site)}" + (f"  (page {site['page_height']} px)" if site else ""))
                print(f"  widget  {_cell(widget)}")
            browser.close()
    print(f"screenshots: {ARTIFACTS.relative_to(PROJECT_ROOT)}/{label}*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
