"""Private names of other packages come through disentangle._compat only (issue 14, item 8)."""

import ast
import importlib
import sys
from pathlib import Path

import joblib._utils
import pytest
from packaging.version import Version

import disentangle
from disentangle import _compat

PACKAGE = Path(disentangle.__file__).parent
#: joblib reads pre_dispatch with limits (30 characters, values up to 10**6, errors as
#: ValueError) since 1.5.3; the fallback follows it, older releases read more.
LIMITS_SINCE = Version("1.5.3")


def _private_imports(path):
    """(module, name) of every import of a private name of another package in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "disentangle":
                continue
            private_module = any(part.startswith("_") for part in node.module.split("."))
            found += [(node.module, alias.name) for alias in node.names
                      if private_module or alias.name.startswith("_")]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names
                      if any(part.startswith("_") for part in alias.name.split("."))]
    return found


def test_private_names_of_other_packages_are_imported_in_compat_only():
    offenders = {str(path.relative_to(PACKAGE)): _private_imports(path)
                 for path in PACKAGE.rglob("*.py") if path.name != "_compat.py"}
    assert {path: names for path, names in offenders.items() if names} == {}
    assert _private_imports(PACKAGE / "_compat.py")  # the test can see them


@pytest.fixture
def reload_compat(monkeypatch):
    """Reload ``_compat`` with some modules made unimportable; restore it afterwards."""
    def reload(*missing):
        for name in missing:
            monkeypatch.setitem(sys.modules, name, None)
        return importlib.reload(_compat)

    yield reload
    monkeypatch.undo()
    importlib.reload(_compat)


@pytest.mark.parametrize("expr", ["2*n_jobs", "n_jobs + 3", "-n_jobs", "n_jobs // 2", "n_jobs**7",
                                  "two*n_jobs", "n_jobs; 1", "1/0", "1" * 31])
def test_eval_expr_fallback_reads_pre_dispatch_as_joblib(reload_compat, expr):
    expr = expr.replace("n_jobs", "4")
    if Version(joblib.__version__) < LIMITS_SINCE and expr in ("1/0", "1" * 31):
        pytest.skip(f"joblib {joblib.__version__} reads {expr!r} without the limits of "
                    f"{LIMITS_SINCE}, which the fallback follows")
    fallback = reload_compat("joblib._utils").eval_expr
    assert fallback is not joblib._utils.eval_expr
    try:
        expected = joblib._utils.eval_expr(expr)
    except ValueError:
        with pytest.raises(ValueError):
            fallback(expr)
    else:
        assert fallback(expr) == expected


def test_missing_sklearn_validation_says_what_to_install(reload_compat):
    with pytest.raises(ImportError, match=r"pip install 'scikit-learn>=1.6,<1.10'"):
        reload_compat("sklearn.utils._param_validation")
