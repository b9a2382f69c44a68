"""Every package that `disentangle` imports is declared in pyproject.toml (issue 14, item 8)."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_top_level_names():
    """Top-level names of every module imported anywhere in the package (also inside functions)."""
    names = set()
    for path in (ROOT / "disentangle").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"disentangle"}


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_package_is_a_declared_dependency():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_normalise(re.split(r"[\s<>=!~;\[]", requirement)[0])
                for requirement in project["dependencies"]}
    providers = packages_distributions()
    undeclared = {name: providers.get(name) for name in _imported_top_level_names()
                  if not {_normalise(d) for d in providers.get(name, [name])} & declared}
    assert undeclared == {}, f"imported but not in [project].dependencies: {undeclared}"
