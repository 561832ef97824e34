"""The layered architecture holds: the import contract, and no strategy knowledge below strategies.

The import-linter contract (``[tool.importlinter]`` in pyproject.toml) says which layer may import
which; this test runs it, so an upward import fails the suite as it fails CI. Below the strategy
layer (kernel, agents, config, engine) no strategy's name may appear outside docstrings: what a
strategy knows lives in its package.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from seeker.strategies import load
from tests.support import ROOT

BELOW_STRATEGIES = ("core", "agents", "config", "engine")


def test_the_import_layer_contract_is_kept() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run(
        [str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "broken" in res.stdout and "0 broken" in res.stdout


def _docstring_lines(tree: ast.Module) -> set[int]:
    """Return the line numbers covered by docstrings (module, class, function, attribute)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _code_mentions(path: Path, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    """Return the code lines of `path` (outside docstrings) that match `pattern`."""
    source = path.read_text()
    skip = _docstring_lines(ast.parse(source))
    return [
        (i, line.strip())
        for i, line in enumerate(source.splitlines(), start=1)
        if i not in skip and pattern.search(line)
    ]


def test_no_strategy_name_below_the_strategy_layer() -> None:
    names = sorted(load())
    words = {*names, *(n.replace("_", " ") for n in names), "condor", "butterfly", "iron fly"}
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(words)) + r")\b", re.I)
    found = [
        f"{path.relative_to(ROOT)}:{i}: {line}"
        for layer in BELOW_STRATEGIES
        for path in sorted((ROOT / "seeker" / layer).rglob("*.py"))
        for i, line in _code_mentions(path, pattern)
    ]
    assert found == [], "strategy knowledge below the strategy layer:\n" + "\n".join(found)


def test_the_check_finds_a_name_in_code(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""An iron_condor in a docstring is fine."""\nRULE = "iron_condor"\n')
    assert _code_mentions(sample, re.compile(r"\biron_condor\b")) == [(2, 'RULE = "iron_condor"')]
