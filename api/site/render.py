"""Turning document text into safe HTML: documents are untrusted wherever they are shown.

Markdown goes through markdown-it-py with raw HTML disabled, then nh3 (an allow-list sanitiser)
removes anything that is not plain document markup: scripts, event handlers, ``javascript:``
links and SVG payloads render as text or disappear. Headings move one level down, so that the
page's title stays its only ``h1``.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_TAGS = {
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "br",
    "hr",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def _markdown() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

    def shifted(renderer, tokens, index, options, env):
        token = tokens[index]
        token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        return renderer.renderToken(tokens, index, options, env)

    parser.add_render_rule("heading_open", shifted)
    parser.add_render_rule("heading_close", shifted)
    return parser


_PARSER = _markdown()


def sanitise(fragment: str) -> Markup:
    cleaned = nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)


def markdown(text: str) -> Markup:
    """A Markdown passage as sanitised HTML."""
    return sanitise(_PARSER.render(text))


def plain(text: str) -> Markup:
    """Extracted text (PDF, plain text): paragraphs on blank lines, lines kept, all escaped."""
    paragraphs = [part.strip() for part in text.split("\n\n") if part.strip()]
    return Markup("".join(f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>" for part in paragraphs))


def highlighted(snippet: str, spans: list[list[int]]) -> Markup:
    """A snippet with its matched terms in ``<mark>``, everything else escaped."""
    parts, position = [], 0
    for start, end in sorted(spans):
        if start < position or end > len(snippet):
            continue
        parts.append(html.escape(snippet[position:start]))
        parts.append(f"<mark>{html.escape(snippet[start:end])}</mark>")
        position = end
    parts.append(html.escape(snippet[position:]))
    return Markup("".join(parts))
