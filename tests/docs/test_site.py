"""The documentation site's sources (mkdocs.yml, docs/), checked without building it
(CI builds it with ``mkdocs build --strict``, which needs the ``docs`` extra; these
checks need nothing).

* The API reference documents every public name, through the public package only
  (``::: coder_tasks_async.Task``, never a private module: those get renamed).
* Every page is in the navigation, and the navigation names only pages that exist.
* Every README/CHANGELOG section a page includes exists, start and end.
"""

from __future__ import annotations

import re

from codeblocks import ROOT

import coder_tasks_async
import coder_tasks_async.testing

DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"
_DIRECTIVE = re.compile(r"^::: (\S+)$", re.M)
_INCLUDE = re.compile(r'^--8<-- "([^":]+)(?::([^"]+))?"$', re.M)


def documented() -> list[str]:
    """The identifiers the reference pages render, in page order."""
    return [
        m for page in sorted(REFERENCE.glob("*.md")) for m in _DIRECTIVE.findall(page.read_text())
    ]


def pages() -> set[str]:
    """The site's pages, relative to docs/."""
    return {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}


def test_the_reference_lists_every_public_name() -> None:
    shown = set(documented())
    wanted = {f"coder_tasks_async.{name}" for name in coder_tasks_async.__all__}
    wanted |= {f"coder_tasks_async.testing.{name}" for name in coder_tasks_async.testing.__all__}
    assert sorted(wanted - shown) == [], "public names missing from docs/reference/"


def test_the_reference_names_each_object_once_and_publicly() -> None:
    shown = documented()
    assert len(shown) == len(set(shown)), "a name documented twice"
    private = [
        name
        for name in shown
        if any(part.startswith("_") for part in name.split(".")[1:])
        and not name.endswith(".__version__")
    ]
    assert private == [], "document names through the public package, not private modules"


def test_every_page_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    nav = config[config.index("\nnav:") :]
    listed = set(re.findall(r":\s*(\S+\.md)\s*$", nav, re.M))
    assert listed == pages()


def test_every_included_section_exists() -> None:
    includes = [
        (page, match.group(1), match.group(2))
        for page in DOCS.rglob("*.md")
        for match in _INCLUDE.finditer(page.read_text())
    ]
    assert len(includes) >= 10
    for page, source, section in includes:
        text = (ROOT / source).read_text()
        if section is None:
            continue
        for edge in ("start", "end"):
            marker = f"--8<-- [{edge}:{section}]"
            assert text.count(marker) == 1, f"{page.name} includes {source}:{section}: {marker}"
        assert text.index(f"[start:{section}]") < text.index(f"[end:{section}]")


def test_the_readme_says_how_to_serve_the_site() -> None:
    assert "pip install -e '.[docs]' && mkdocs serve" in (ROOT / "README.md").read_text()


def test_the_site_builds_offline() -> None:
    """No font or script from the network: Material's web fonts are off, and nothing
    loads from a CDN (mermaid, MathJax, analytics)."""
    config = (ROOT / "mkdocs.yml").read_text()
    assert re.search(r"^  font: false$", config, re.M)
    assert not re.search(r"https?://|analytics|extra_javascript|extra_css", config)
