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


def _pins(path):
    """name -> version of the ``name==version`` lines of a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[_normalise(name.split("[")[0])] = version
    return pins


def test_every_lower_bound_is_a_version_ci_tests():
    """The oldest set (benchmarks/box/, `make test-oldest` in .ci/run) pins each lower bound of
    pyproject.toml, but numpy's: the box has the newest served, and `make test` on Python
    3.11 tests the bound."""
    tomllib = pytest.importorskip("tomllib")
    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {**_pins(ROOT / "benchmarks" / "box" / "packages.txt"),
            **_pins(ROOT / "benchmarks" / "box" / "wheels.txt")}
    bounds = {}
    for line in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        requirement = Requirement(line)
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        bounds[_normalise(requirement.name)] = Version(lower[0])
    assert set(bounds) - set(pins) == {"numpy"}
    assert {name: Version(pins[name]) for name in bounds if name != "numpy"} == {
        name: bound for name, bound in bounds.items() if name != "numpy"}
    build = Requirement(tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
                        ["requires"][0])
    assert Version(pins["setuptools"]) in build.specifier
