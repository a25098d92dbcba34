"""MkDocs hooks (``hooks:`` in mkdocs.yml).

GitHub reads ``\\|`` inside a code span of a table cell as a plain ``|`` (the README's
CLI table needs the escape there); Python-Markdown keeps the backslash, and needs no
escape since it never splits a cell inside a code span.  The preprocessor below drops
those backslashes once the snippets are in, so both renderings agree.
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

_CODE_SPAN = re.compile(r"`[^`\n]*`")


class _TablePipes(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return [
            _CODE_SPAN.sub(lambda m: m.group(0).replace("\\|", "|"), line)
            if line.lstrip().startswith("|")
            else line
            for line in lines
        ]


class TablePipes(Extension):
    """``\\|`` in a table's code spans read as GitHub reads it."""

    def extendMarkdown(self, md: Markdown) -> None:  # Markdown's name for it
        # After pymdownx.snippets (32), so included README tables are covered too.
        md.preprocessors.register(_TablePipes(md), "table_pipes", 25)


def on_config(config: Any) -> Any:
    config.markdown_extensions.append(TablePipes())
    return config
