"""LEDGER.md stays true: every test it names exists here, and it ports at least 80 cases."""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
LEDGER = (HERE / "LEDGER.md").read_text()
_ROW = re.compile(r"^\| `(?P<go>[^`]+)` \| `[^`]+` \| [^|]+ \| (?P<here>.+) \|$", re.M)
_REF = re.compile(r"(test_[a-z_]+\.py)::(test_[a-z0-9_]+)")


def _defined(module: str) -> set[str]:
    tree = ast.parse((HERE / module).read_text())
    return {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_test_the_ledger_names_exists() -> None:
    refs = _REF.findall(LEDGER)
    assert refs
    missing = [f"{m}::{t}" for m, t in refs if t not in _defined(m)]
    assert missing == []


def test_every_row_ports_or_says_why_not() -> None:
    rows = _ROW.findall(LEDGER)
    assert len(rows) > 150
    for go, here in rows:
        assert _REF.search(here) or here.startswith(
            ("not applicable", "parent", "super", "server")
        ), go


def test_at_least_80_go_cases_are_ported() -> None:
    ported = [go for go, here in _ROW.findall(LEDGER) if _REF.search(here)]
    assert len(ported) >= 80
