"""DAG source as highlighted HTML: Pygments with CSS classes (the CSP forbids inline styles).

Line numbers are a separate column of anchors (``#L-12``), so copying the code copies no numbers.
The colours live in ``static/pygments.css``, for the light and the dark theme.
"""

from __future__ import annotations

import functools
from typing import Any

from markupsafe import Markup

# Pygments is imported on the first code page, not with the app: most API processes never
# show one, and it is megabytes of every process's memory.


@functools.cache
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(linenos="table", cssclass="highlight", lineanchors="L", anchorlinenos=True,
                         wrapcode=True, noclasses=False)


def highlight_python(source: str) -> Markup:
    """``source`` as highlighted HTML; Pygments escapes every token, so the result is safe markup."""
    from pygments import highlight
    from pygments.lexers import PythonLexer

    return Markup(highlight(source, PythonLexer(), _formatter()))  # noqa: S704 - escaped by Pygments


def stylesheet() -> str:
    """The light theme's rules, then the dark theme's (scoped by ``data-theme`` and the OS preference)."""
    from pygments.formatters import HtmlFormatter

    # Pygments also styles every <pre> of the page; only its own blocks are meant.
    light = "\n".join(line for line in HtmlFormatter(style="default", cssclass="highlight")
                      .get_style_defs(".highlight").splitlines() if not line.startswith("pre "))
    dark_rules = HtmlFormatter(style="monokai", cssclass="highlight").get_style_defs(".highlight")
    scoped = "\n".join(f":root[data-theme=dark] {line}" for line in dark_rules.splitlines() if line.startswith("."))
    auto = "\n".join(f"  :root:not([data-theme=light]) {line}" for line in dark_rules.splitlines()
                     if line.startswith("."))
    return f"{light}\n{scoped}\n@media (prefers-color-scheme: dark) {{\n{auto}\n}}\n"


if __name__ == "__main__":  # regenerate the stylesheet: python -m tandem.api.ui.highlight > static/pygments.css
    print(stylesheet(), end="")
