"""``doc_md`` as HTML: CommonMark (plus tables) with raw HTML disabled, so DAG authors' text stays text.

markdown-it-py escapes any HTML in the source and refuses ``javascript:``, ``vbscript:``,
``file:`` and ``data:`` links; links that remain open nothing with the page's authority
(``rel=noopener noreferrer nofollow``).
"""

from __future__ import annotations

import functools
from typing import Any

from markupsafe import Markup


@functools.cache
def _markdown() -> Any:
    # Imported on the first page with doc_md, not with the app (megabytes of every API process).
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    md.add_render_rule("link_open", _link_open)
    return md


def _link_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return str(self.renderToken(tokens, idx, options, env))


def render_markdown(text: str | None) -> Markup:
    """``text`` rendered; safe to put in a page as is (no raw HTML can pass through)."""
    return Markup(_markdown().render(text or ""))  # noqa: S704 - html=False: markdown-it escapes all source HTML
